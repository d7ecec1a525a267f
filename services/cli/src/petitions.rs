//! Petitions through intake's gRPC API, as a clerk at the reception desk would enter them.

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use tonic_types::StatusExt;
use xinfang_proto::intake::v1::{
    CreatePetitionRequest, GetPetitionRequest, ListPetitionsRequest, PetitionFilter,
    ReconcileCaseNumbersRequest, get_petition_request::Key,
    intake_service_client::IntakeServiceClient,
};
use xinfang_proto::v1 as proto;

#[derive(Subcommand)]
pub enum PetitionCommand {
    /// Register a petition received just now (or at --received-at).
    Submit(Box<Submit>),
    /// Show one petition by case number (610481-2026-000123) or case id.
    Get {
        key: String,
        #[command(flatten)]
        intake: Intake,
    },
    /// Account for every case number of a year: each is a petition, void (with why) or
    /// still pending; numbers no registration can still hold are recorded void first.
    Numbers {
        /// The registration year; this year when left out.
        #[arg(long, default_value_t = 0)]
        year: i32,
        #[command(flatten)]
        intake: Intake,
    },
    /// List petitions, oldest first; the options search (all must match).
    List {
        #[arg(long, default_value_t = 20)]
        page_size: i32,
        #[arg(long, default_value = "")]
        page_token: String,
        /// The petitioner's ID card number (found by keyed hash, never stored); `-` reads
        /// it from standard input, keeping it out of the shell's history.
        #[arg(long, default_value = "")]
        id_card: String,
        /// The petitioner's phone; `-` reads it from standard input.
        #[arg(long, default_value = "")]
        phone: String,
        /// An upstream bureau's reference.
        #[arg(long, default_value = "")]
        upstream_reference: String,
        /// Routed to this unit or one under it.
        #[arg(long, default_value = "")]
        unit: String,
        #[command(flatten)]
        intake: Intake,
    },
}

#[derive(Args)]
pub struct Intake {
    /// Intake's gRPC address.
    #[arg(
        long,
        env = "XINFANG_INTAKE_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    intake_url: String,
    #[command(flatten)]
    token: crate::connect::Token,
}

#[derive(Clone, Copy, ValueEnum)]
enum ChannelArg {
    Online,
    Letter,
    Visit,
    Phone,
    LeaderMailbox,
}

#[derive(Args)]
pub struct Submit {
    #[arg(long, value_enum, default_value = "visit")]
    channel: ChannelArg,
    /// Unit code of the town or street where the matter arose.
    #[arg(long)]
    territory: String,
    /// Matter category code from the routing directory.
    #[arg(long)]
    category: String,
    #[arg(long)]
    title: String,
    /// The request, facts and reasons.
    #[arg(long)]
    content: String,
    /// The petitioner's name; leave out with --anonymous.
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    id_card: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    address: Option<String>,
    #[arg(long)]
    anonymous: bool,
    /// How many people raise the matter together.
    #[arg(long, default_value_t = 1)]
    people: u32,
    /// Unit code of the accused unit, for a report or accusation.
    #[arg(long)]
    accused_unit: Option<String>,
    /// When the bureau received it (RFC 3339); now when left out.
    #[arg(long)]
    received_at: Option<String>,
    /// Reuse to retry a submission safely; a fresh one by default.
    #[arg(long)]
    request_id: Option<String>,
    /// For a unit registrar (首接首办): the unit whose desk registers it, when the token
    /// names several.
    #[arg(long)]
    registering_unit: Option<String>,
    #[command(flatten)]
    intake: Intake,
}

pub async fn run(command: PetitionCommand) -> anyhow::Result<()> {
    match command {
        PetitionCommand::Submit(submit) => {
            let mut client = connect(&submit.intake).await?;
            let request = submit.request()?;
            let request_id = request.request_id.clone();
            let petition = client
                .create_petition(request)
                .await
                .map_err(explain)?
                .into_inner();
            println!(
                "registered {} (case id {}, request id {request_id})\nquery code for the petitioner (shown once): {}",
                petition.case_number, petition.case_id, petition.query_code
            );
            for notice in &petition.notices {
                println!("notice: {notice}");
            }
        }
        PetitionCommand::Get { key, intake } => {
            let key = if uuid::Uuid::parse_str(&key).is_ok() {
                Key::CaseId(key)
            } else {
                Key::CaseNumber(key)
            };
            let petition = connect(&intake)
                .await?
                .get_petition(GetPetitionRequest { key: Some(key) })
                .await
                .map_err(explain)?;
            println!("{:#?}", petition.into_inner());
        }
        PetitionCommand::Numbers { year, intake } => {
            let ledger = connect(&intake)
                .await?
                .reconcile_case_numbers(ReconcileCaseNumbersRequest { year })
                .await
                .map_err(explain)?
                .into_inner();
            println!(
                "case numbers of {} in {}: {} drawn, {} registered, {} void, {} pending — {}",
                ledger.year,
                ledger.region_code,
                ledger.highest_drawn,
                ledger.registered,
                ledger.voided.len(),
                ledger.pending.len(),
                if ledger.balanced {
                    "every number accounted for"
                } else {
                    "NOT BALANCED"
                }
            );
            for void in &ledger.voided {
                println!("  void {}: {}", void.case_number, void.reason);
            }
            for sequence in &ledger.pending {
                println!(
                    "  pending {}-{}-{sequence:06}: drawn in the last minutes",
                    ledger.region_code, ledger.year
                );
            }
        }
        PetitionCommand::List {
            page_size,
            page_token,
            id_card,
            phone,
            upstream_reference,
            unit,
            intake,
        } => {
            let page = connect(&intake)
                .await?
                .list_petitions(ListPetitionsRequest {
                    page_size,
                    page_token,
                    filter: Some(PetitionFilter {
                        petitioner_id_card_number: from_stdin_if_dash(id_card)?,
                        petitioner_phone: from_stdin_if_dash(phone)?,
                        upstream_reference,
                        unit_code: unit,
                        ..Default::default()
                    }),
                })
                .await
                .map_err(explain)?
                .into_inner();
            for petition in &page.petitions {
                println!(
                    "{}  {}  {}",
                    petition.case_number, petition.territory_code, petition.title
                );
            }
            if !page.next_page_token.is_empty() {
                println!("next page: --page-token {}", page.next_page_token);
            }
        }
    }
    Ok(())
}

impl Submit {
    fn request(&self) -> anyhow::Result<CreatePetitionRequest> {
        let received_at = match &self.received_at {
            Some(text) => {
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .with_context(|| format!("--received-at {text:?} is not an RFC 3339 time"))?
            }
            None => time::OffsetDateTime::now_utc(),
        };
        let channel = match self.channel {
            ChannelArg::Online => proto::Channel::Online,
            ChannelArg::Letter => proto::Channel::Letter,
            ChannelArg::Visit => proto::Channel::Visit,
            ChannelArg::Phone => proto::Channel::Phone,
            ChannelArg::LeaderMailbox => proto::Channel::LeaderMailbox,
        };
        let petitioner = (!self.anonymous).then(|| proto::PetitionerIdentity {
            kind: proto::PetitionerKind::Person as i32,
            name: self.name.clone().unwrap_or_default(),
            id_card_number: self.id_card.clone().unwrap_or_default(),
            phone: self.phone.clone().unwrap_or_default(),
            address: self.address.clone().unwrap_or_default(),
        });
        Ok(CreatePetitionRequest {
            request_id: self
                .request_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
            petition: Some(proto::Petition {
                channel: channel as i32,
                source: Some(proto::PetitionSource {
                    level: proto::SourceLevel::Local as i32,
                    ..Default::default()
                }),
                received_at: Some(prost_types::Timestamp {
                    seconds: received_at.unix_timestamp(),
                    nanos: 0,
                }),
                anonymous: self.anonymous,
                petitioner,
                people_count: self.people,
                territory_code: self.territory.clone(),
                matter_category: self.category.clone(),
                title: self.title.clone(),
                content: self.content.clone(),
                accused_unit_code: self.accused_unit.clone().unwrap_or_default(),
                ..Default::default()
            }),
            registering_unit: self.registering_unit.clone().unwrap_or_default(),
        })
    }
}

/// A value given as `-` is read from a line of standard input.
fn from_stdin_if_dash(value: String) -> anyhow::Result<String> {
    if value != "-" {
        return Ok(value);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

async fn connect(intake: &Intake) -> anyhow::Result<IntakeServiceClient<crate::connect::Authed>> {
    let channel = crate::connect::channel(&intake.intake_url, "intake", &intake.token).await?;
    Ok(IntakeServiceClient::new(channel))
}

/// Turns a status into a message a clerk can act on, one line per wrong field.
pub fn explain(status: tonic::Status) -> anyhow::Error {
    let mut message = format!("{:?}: {}", status.code(), status.message());
    if let Some(bad_request) = status.get_details_bad_request() {
        for violation in bad_request.field_violations {
            message.push_str(&format!(
                "\n  {}: {}",
                violation.field, violation.description
            ));
        }
    }
    anyhow::anyhow!(message)
}
