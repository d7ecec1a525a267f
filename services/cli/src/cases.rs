//! A case as every service sees it, the directory, and the figures: the read side of the
//! routing, supervision and statistics APIs.

use clap::{Args, Subcommand};
use xinfang_proto::intake::v1::{
    GetPetitionRequest, get_petition_request::Key, intake_service_client::IntakeServiceClient,
};
use xinfang_proto::routing::v1::{
    GetRoutingDecisionRequest, ListUnitsRequest, routing_service_client::RoutingServiceClient,
};
use xinfang_proto::statistics::v1::{
    Count, GetOverviewRequest, statistics_service_client::StatisticsServiceClient,
};
use xinfang_proto::supervision::v1::{
    GetCaseTimelineRequest, supervision_service_client::SupervisionServiceClient,
};
use xinfang_proto::v1::CalendarDate;

use crate::connect::channel;
use crate::petitions::explain;

#[derive(Args)]
pub struct Urls {
    #[arg(
        long,
        env = "XINFANG_INTAKE_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    intake_url: String,
    #[arg(
        long,
        env = "XINFANG_ROUTING_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    routing_url: String,
    #[arg(
        long,
        env = "XINFANG_SUPERVISION_URL",
        default_value = "http://127.0.0.1:50053"
    )]
    supervision_url: String,
    #[arg(
        long,
        env = "XINFANG_STATISTICS_URL",
        default_value = "http://127.0.0.1:50054"
    )]
    statistics_url: String,
    #[command(flatten)]
    token: crate::connect::Token,
}

#[derive(Subcommand)]
pub enum CaseCommand {
    /// Show where a case is: registered (intake), routed (routing), its deadlines (supervision).
    Show {
        /// Case number (610481-2026-000123) or case id.
        key: String,
        #[command(flatten)]
        urls: Urls,
    },
    /// The overview: cases by source, channel, unit and status (statistics).
    Overview {
        #[command(flatten)]
        urls: Urls,
    },
    /// The organisation directory routing loaded.
    Units {
        #[command(flatten)]
        urls: Urls,
    },
}

fn day(date: Option<&CalendarDate>) -> String {
    date.map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
        .unwrap_or_default()
}

fn print_counts(title: &str, counts: &[Count]) {
    println!("{title}:");
    for count in counts {
        println!("  {:<28} {}", count.key, count.cases);
    }
}

pub async fn run(command: CaseCommand) -> anyhow::Result<()> {
    match command {
        CaseCommand::Show { key, urls } => {
            let key = if uuid::Uuid::parse_str(&key).is_ok() {
                Key::CaseId(key)
            } else {
                Key::CaseNumber(key)
            };
            let petition =
                IntakeServiceClient::new(channel(&urls.intake_url, "intake", &urls.token).await?)
                    .get_petition(GetPetitionRequest { key: Some(key) })
                    .await
                    .map_err(explain)?
                    .into_inner();
            println!("case {}  (id {})", petition.case_number, petition.case_id);
            println!("  intake       registered: {}", petition.title);
            let case_id = petition.case_id.clone();
            let mut routing = RoutingServiceClient::new(
                channel(&urls.routing_url, "routing", &urls.token).await?,
            );
            match routing
                .get_routing_decision(GetRoutingDecisionRequest {
                    case_id: case_id.clone(),
                })
                .await
            {
                Ok(decision) => {
                    let d = decision.into_inner();
                    println!(
                        "  routing      {} to {} {} ({}, rule {}): {}",
                        d.disposition().as_str_name(),
                        d.unit_code,
                        d.unit_name,
                        d.track().as_str_name(),
                        d.rule,
                        d.reason
                    );
                }
                Err(status) if status.code() == tonic::Code::NotFound => {
                    println!("  routing      not routed yet");
                }
                Err(status) => return Err(explain(status)),
            }
            let mut supervision = SupervisionServiceClient::new(
                channel(&urls.supervision_url, "supervision", &urls.token).await?,
            );
            match supervision
                .get_case_timeline(GetCaseTimelineRequest { case_id })
                .await
            {
                Ok(timeline) => {
                    let timeline = timeline.into_inner();
                    println!("  supervision  {}", timeline.stage().as_str_name());
                    for deadline in timeline.deadlines {
                        println!(
                            "  supervision  {} {} from {} due {}{}",
                            deadline.kind().as_str_name(),
                            deadline.state().as_str_name(),
                            day(deadline.start.as_ref()),
                            day(deadline.due.as_ref()),
                            if deadline.provisional {
                                " (provisional)"
                            } else {
                                ""
                            }
                        );
                    }
                }
                Err(status) if status.code() == tonic::Code::NotFound => {
                    println!("  supervision  no timeline yet");
                }
                Err(status) => return Err(explain(status)),
            }
        }
        CaseCommand::Overview { urls } => {
            let overview = StatisticsServiceClient::new(
                channel(&urls.statistics_url, "statistics", &urls.token).await?,
            )
            .get_overview(GetOverviewRequest {})
            .await
            .map_err(explain)?
            .into_inner();
            println!("cases: {}", overview.cases);
            print_counts("by status", &overview.by_status);
            print_counts("by source", &overview.by_source);
            print_counts("by channel", &overview.by_channel);
            print_counts("by unit", &overview.by_unit);
        }
        CaseCommand::Units { urls } => {
            let mut routing = RoutingServiceClient::new(
                channel(&urls.routing_url, "routing", &urls.token).await?,
            );
            let mut page_token = String::new();
            loop {
                let page = routing
                    .list_units(ListUnitsRequest {
                        page_size: 500,
                        page_token,
                        include_retired: false,
                    })
                    .await
                    .map_err(explain)?
                    .into_inner();
                for unit in &page.units {
                    println!(
                        "{:<20} {:<28} {:<16} {}",
                        unit.code,
                        unit.kind().as_str_name().trim_start_matches("UNIT_KIND_"),
                        unit.parent_code,
                        unit.name
                    );
                }
                if page.next_page_token.is_empty() {
                    println!("(directory {})", page.directory_version);
                    break;
                }
                page_token = page.next_page_token;
            }
        }
    }
    Ok(())
}
