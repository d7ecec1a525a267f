//! The figures leaders read, through the public API: a unit's work on its cases shows in the
//! rates, a unit handler reads only its own units' figures, and statistics rebuilt from the
//! streams into an empty database answers exactly as the live service.

use prost::Message;
use time::OffsetDateTime;
use tonic::Code;
use xinfang_platform::auth::Role;
use xinfang_platform::wire::timestamp;
use xinfang_proto::statistics::v1::{
    Figures, GetFiguresRequest, GetOverviewRequest,
    statistics_service_client::StatisticsServiceClient,
};
use xinfang_statistics::figures::Filter;
use xinfang_statistics::formula::formula;
use xinfang_statistics::overview::consistent_overview;
use xinfang_statistics::period::Period;
use xinfang_statistics::query::{Asked, read_figures};
use xinfang_testkit::auth::{self, Authed};
use xinfang_testkit::{Backend, Stack, Svc, TestDatabase, eventually};

use crate::lifecycle::{accept, act, as_unit, reply, routed_case, serve, sign_for};
use crate::support::SETTLE;

/// This half-year, in China time: every case of the scenario is registered in it.
fn this_half_year() -> String {
    let today = xinfang_platform::wire::china_date(OffsetDateTime::now_utc());
    let half = if u8::from(today.month()) <= 6 { 1 } else { 2 };
    format!("{}-H{half}", today.year())
}

fn figures_client(
    stack: &Stack,
    roles: &[Role],
    units: &[&str],
) -> StatisticsServiceClient<Authed> {
    let token = auth::token(roles, units);
    StatisticsServiceClient::new(auth::authed(&stack.grpc_url(Svc::Statistics), &token))
}

fn ask(period: &str, as_of: OffsetDateTime) -> GetFiguresRequest {
    GetFiguresRequest {
        period: period.to_owned(),
        as_of: Some(timestamp(as_of)),
        ..GetFiguresRequest::default()
    }
}

/// Two cases at 赵村镇 and one at 东城街道: one served, one accepted, one untouched.
async fn worked_cases(stack: &Stack) -> Vec<String> {
    let mut cases = Vec::new();
    for index in [0, 1, 2] {
        cases.push(routed_case(stack, index).await);
    }
    let mut zhaocun = as_unit(stack, "zhaocun");
    for action in [sign_for(), accept(), reply(), serve()] {
        act(&mut zhaocun, &cases[0], action).await;
    }
    for action in [sign_for(), accept()] {
        act(&mut zhaocun, &cases[1], action).await;
    }
    cases
}

/// The leader's figures of `period` once statistics has every step of `worked_cases`: three
/// cases, one done, two accepted.
async fn settled_figures(stack: &Stack, period: &str) -> Figures {
    let leader = figures_client(stack, &[Role::Leader], &[]);
    eventually(SETTLE, || {
        let request = GetFiguresRequest {
            period: period.to_owned(),
            ..GetFiguresRequest::default()
        };
        let mut leader = leader.clone();
        async move {
            let figures = leader.get_figures(request).await.ok()?.into_inner();
            let status = figures.status?;
            let accepted = figures.timely_acceptance.as_ref()?.denominator;
            (status.cases == 3 && status.done == 1 && accepted == 2).then_some(figures)
        }
    })
    .await
}

fn rate(
    figures: &Figures,
    pick: fn(&Figures) -> Option<&xinfang_proto::statistics::v1::Rate>,
) -> (u64, u64) {
    pick(figures).map_or((0, 0), |rate| (rate.numerator, rate.denominator))
}

#[tokio::test]
async fn a_units_work_shows_in_the_figures_and_a_unit_handler_reads_only_its_own() {
    let stack = Stack::start(Backend::Sqlite)
        .await
        .expect("the stack starts");
    worked_cases(&stack).await;
    let period = this_half_year();
    let figures = settled_figures(&stack, &period).await;
    assert_eq!(figures.formula_version, "v1");
    assert_eq!(figures.petitions, 3);
    // Both accepted cases decided on acceptance in time; the served one was replied to and
    // completed in time; nothing else is due yet.
    assert_eq!(rate(&figures, |f| f.timely_acceptance.as_ref()), (2, 2));
    assert_eq!(rate(&figures, |f| f.on_time_reply.as_ref()), (1, 1));
    assert_eq!(rate(&figures, |f| f.on_time_completion.as_ref()), (1, 1));
    assert_eq!(
        figures
            .status
            .as_ref()
            .map(|s| (s.done, s.in_deadline, s.overdue)),
        Some((1, 2, 0))
    );

    // 赵村镇's handler: its own cases only, whatever it asks for.
    let mut zhaocun = figures_client(&stack, &[Role::UnitHandler], &["zhaocun"]);
    let own = zhaocun
        .get_figures(GetFiguresRequest {
            period: period.clone(),
            ..GetFiguresRequest::default()
        })
        .await
        .expect("its own figures")
        .into_inner();
    let units: Vec<&str> = own.by_unit.iter().map(|row| row.key.as_str()).collect();
    assert_eq!(units, ["zhaocun"]);
    let other = zhaocun
        .get_figures(GetFiguresRequest {
            period: period.clone(),
            unit_code: "dongcheng".into(),
            ..GetFiguresRequest::default()
        })
        .await
        .expect("an answer")
        .into_inner();
    assert_eq!(other.status.map(|s| s.cases), Some(0));
    // Nor the bureau's work.
    let refused = zhaocun
        .get_work_figures(xinfang_proto::statistics::v1::GetWorkFiguresRequest {
            period: period.clone(),
            as_of: None,
        })
        .await
        .expect_err("not a unit handler's");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // Its weekly brief from the CLI, as Markdown with the charts beside it.
    let folder = tempfile::tempdir().expect("a folder");
    let token = auth::token(&[Role::UnitHandler], &["zhaocun"]);
    let output = stack
        .cli(&token)
        .expect("the CLI is built")
        .args([
            "statistics",
            "report",
            "--kind",
            "weekly-brief",
            "--period",
            &period,
        ])
        .arg("--out")
        .arg(folder.path())
        .output()
        .await
        .expect("the CLI runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let brief = std::fs::read_to_string(folder.path().join("report.md")).expect("report.md");
    assert!(brief.starts_with("# 信访要情（赵村镇）"), "{brief}");
    assert!(brief.contains("共登记信访2件次、2件"), "{brief}");
    assert!(folder.path().join("units.svg").exists());

    // A period that is not one is refused, saying which forms it takes.
    let mut leader = figures_client(&stack, &[Role::Leader], &[]);
    let wrong = leader
        .get_figures(GetFiguresRequest {
            period: "last month".into(),
            ..GetFiguresRequest::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(wrong.code(), Code::InvalidArgument);
    assert!(wrong.message().contains("period"), "{}", wrong.message());
    let unknown = leader
        .get_figures(GetFiguresRequest {
            period: period.clone(),
            formula_version: "v9".into(),
            ..GetFiguresRequest::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(unknown.code(), Code::InvalidArgument);
    let tomorrow = leader
        .get_figures(ask(
            &period,
            OffsetDateTime::now_utc() + time::Duration::days(1),
        ))
        .await
        .expect_err("refused");
    assert_eq!(tomorrow.code(), Code::InvalidArgument);
    assert!(
        tomorrow.message().contains("as_of"),
        "{}",
        tomorrow.message()
    );
}

#[tokio::test]
async fn statistics_rebuilt_from_the_streams_answers_as_the_live_service_byte_for_byte() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    worked_cases(&stack).await;
    let period = this_half_year();
    settled_figures(&stack, &period).await;

    let rebuilt = TestDatabase::postgres().await.expect("an empty database");
    let output = stack
        .statistics_rebuild(rebuilt.url())
        .expect("the CLI is built")
        .output()
        .await
        .expect("the rebuild runs");
    assert!(
        output.status.success(),
        "rebuild failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.starts_with("rebuilt 3 cases from "), "{said}");

    let live = sea_orm::Database::connect(stack.database_url(Svc::Statistics))
        .await
        .expect("the live database");
    let replayed = sea_orm::Database::connect(rebuilt.url())
        .await
        .expect("the rebuilt database");
    let now = OffsetDateTime::now_utc();
    for as_of in [None, Some(now)] {
        let asked = Asked {
            period: Period::parse(&period).expect("a period"),
            filter: Filter::default(),
            as_of,
            formula: formula("v1").expect("v1"),
        };
        let from_live = read_figures(&live, &asked, now)
            .await
            .expect("live figures");
        let from_rebuilt = read_figures(&replayed, &asked, now)
            .await
            .expect("rebuilt figures");
        assert_eq!(from_live.encode_to_vec(), from_rebuilt.encode_to_vec());
    }
    assert_eq!(
        consistent_overview(&live, now)
            .await
            .expect("live")
            .encode_to_vec(),
        consistent_overview(&replayed, now)
            .await
            .expect("rebuilt")
            .encode_to_vec()
    );
    // And the service answers what its database holds.
    let mut leader = figures_client(&stack, &[Role::Leader], &[]);
    let served = leader
        .get_figures(ask(&period, now))
        .await
        .expect("figures")
        .into_inner();
    let asked = Asked {
        period: Period::parse(&period).expect("a period"),
        filter: Filter::default(),
        as_of: Some(now),
        formula: formula("v1").expect("v1"),
    };
    let read = read_figures(&replayed, &asked, now).await.expect("rebuilt");
    assert_eq!(served.encode_to_vec(), read.encode_to_vec());
    let overview = leader
        .get_overview(GetOverviewRequest {})
        .await
        .expect("overview")
        .into_inner();
    assert_eq!(overview.cases, 3);
    // The rebuild's consumers are gone: it leaves nothing reading the streams.
    let client = stack.nats.client().await.expect("connect");
    let jetstream = async_nats::jetstream::new(client);
    for binding in xinfang_proto::subjects::STATISTICS_TAKES {
        let stream = jetstream
            .get_stream(binding.stream.name)
            .await
            .expect("stream");
        let name = xinfang_proto::subjects::rebuild_consumer(&binding);
        assert!(
            stream.consumer_info(&name).await.is_err(),
            "{name} left behind"
        );
    }
}
