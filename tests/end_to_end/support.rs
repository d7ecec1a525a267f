//! What every end-to-end scenario needs: clients of the four services, submitting with
//! retries the way a careful client does, and counting what each service holds.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use xinfang_platform::auth::Role;
use xinfang_proto::intake::v1::{
    CreatePetitionRequest, intake_service_client::IntakeServiceClient,
};
use xinfang_proto::routing::v1::routing_service_client::RoutingServiceClient;
use xinfang_proto::statistics::v1::{
    GetOverviewRequest, Overview, statistics_service_client::StatisticsServiceClient,
};
use xinfang_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use xinfang_proto::v1 as proto;
use xinfang_testkit::auth::{self, Authed};
use xinfang_testkit::{Stack, Svc};

/// How long a scenario waits for the system to settle.
pub const SETTLE: Duration = Duration::from_secs(90);

/// The bureau's own staff: registers petitions and reads every case and the figures.
pub fn bureau_token() -> String {
    auth::token(&[Role::Registrar, Role::Supervisor], &[])
}

async fn channel(stack: &Stack, svc: Svc) -> Authed {
    auth::authed(&stack.grpc_url(svc), &bureau_token())
}

pub async fn intake(stack: &Stack) -> IntakeServiceClient<Authed> {
    IntakeServiceClient::new(channel(stack, Svc::Intake).await)
}

pub async fn routing(stack: &Stack) -> RoutingServiceClient<Authed> {
    RoutingServiceClient::new(channel(stack, Svc::Routing).await)
}

pub async fn supervision(stack: &Stack) -> SupervisionServiceClient<Authed> {
    SupervisionServiceClient::new(channel(stack, Svc::Supervision).await)
}

pub async fn statistics(stack: &Stack) -> StatisticsServiceClient<Authed> {
    StatisticsServiceClient::new(channel(stack, Svc::Statistics).await)
}

/// Submits until intake answers, reusing the request id, as the API asks a client to do
/// when a call fails without an answer (intake killed, connection lost).
pub async fn submit(
    client: &mut IntakeServiceClient<Authed>,
    request: CreatePetitionRequest,
) -> proto::Petition {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        match client.create_petition(request.clone()).await {
            Ok(response) => return response.into_inner(),
            Err(status)
                if matches!(
                    status.code(),
                    tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
                ) && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("petition refused: {status:?}"),
        }
    }
}

/// The overview once statistics counts `cases` cases whose timeline supervision opened
/// (every service has processed them), or the failure with every service's log tail.
pub async fn settled_overview(stack: &Stack, cases: u64) -> Overview {
    let mut client = statistics(stack).await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    let mut last = None;
    loop {
        if let Ok(response) = client.get_overview(GetOverviewRequest {}).await {
            let overview = response.into_inner();
            if overview.timelines_opened >= cases {
                return overview;
            }
            last = Some(overview);
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "{cases} cases without a timeline within {SETTLE:?}; last overview {last:?}\n{}",
                stack.log_tails(20)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn count_of(counts: &[xinfang_proto::statistics::v1::Count], key: &str) -> u64 {
    counts
        .iter()
        .find(|c| c.key == key)
        .map(|c| c.cases)
        .unwrap_or(0)
}

/// Rows in one of a service's tables, read straight from its database.
pub async fn rows(stack: &Stack, svc: Svc, table: &str) -> u64 {
    let db = sea_orm::Database::connect(stack.database_url(svc))
        .await
        .expect("connect to the service's database");
    let statement = Statement::from_string(
        db.get_database_backend(),
        format!("SELECT COUNT(*) AS n FROM {table}"),
    );
    let row = db
        .query_one_raw(statement)
        .await
        .expect("count rows")
        .expect("a count");
    let n: i64 = row.try_get("", "n").expect("a number");
    db.close().await.ok();
    u64::try_from(n).unwrap_or_default()
}

/// Messages stored in a stream.
pub async fn stream_messages(stack: &Stack, stream: &str) -> u64 {
    let client = stack.nats.client().await.expect("connect to NATS");
    let jetstream = async_nats::jetstream::new(client);
    let mut stream = jetstream
        .get_stream(stream)
        .await
        .expect("the stream exists");
    stream.info().await.expect("stream info").state.messages
}

/// Every service holds exactly `cases` cases and every stream exactly `cases` events.
pub async fn assert_exactly(stack: &Stack, cases: u64) {
    use xinfang_proto::subjects::{INTAKE_STREAM, ROUTING_STREAM, SUPERVISION_STREAM};
    let overview = settled_overview(stack, cases).await;
    assert_eq!(overview.cases, cases, "statistics' count: {overview:?}");
    assert_eq!(overview.timelines_opened, cases);
    assert_eq!(
        rows(stack, Svc::Intake, "petition").await,
        cases,
        "intake's petitions"
    );
    assert_eq!(
        rows(stack, Svc::Routing, "routing_decision").await,
        cases,
        "routing's decisions"
    );
    assert_eq!(
        rows(stack, Svc::Supervision, "supervised_case").await,
        cases,
        "supervision's cases"
    );
    assert_eq!(
        rows(stack, Svc::Statistics, "case_record").await,
        cases,
        "statistics' facts"
    );
    // Routing's stream also holds its one announcement of the directory, made at its first
    // start (a restart with the same directory announces nothing).
    for (stream, besides) in [
        (INTAKE_STREAM, 0),
        (ROUTING_STREAM, 1),
        (SUPERVISION_STREAM, 0),
    ] {
        assert_eq!(
            stream_messages(stack, stream.name).await,
            cases + besides,
            "events in {}",
            stream.name
        );
    }
}

/// The Prometheus text a service serves on `/metrics`.
pub async fn metrics(stack: &Stack, svc: Svc) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut connection = tokio::net::TcpStream::connect(stack.metrics_address(svc))
        .await
        .expect("connect to the metrics listener");
    connection
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await
        .expect("ask for metrics");
    let mut response = String::new();
    connection
        .read_to_string(&mut response)
        .await
        .expect("read metrics");
    response
}

/// A service's audit entries about one case: (subject, roles, action, allowed).
pub async fn audited(
    stack: &Stack,
    svc: Svc,
    case_id: &str,
) -> Vec<(String, String, String, bool)> {
    let db = sea_orm::Database::connect(stack.database_url(svc))
        .await
        .expect("connect to the service's database");
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT subject, roles, action, allowed FROM audit_entry WHERE case_id = $1 ORDER BY id",
        [uuid::Uuid::parse_str(case_id).expect("a case id").into()],
    );
    let rows = db
        .query_all_raw(statement)
        .await
        .expect("read the audit table");
    db.close().await.ok();
    rows.iter()
        .map(|row| {
            (
                row.try_get("", "subject").expect("subject"),
                row.try_get("", "roles").expect("roles"),
                row.try_get("", "action").expect("action"),
                row.try_get("", "allowed").expect("allowed"),
            )
        })
        .collect()
}

/// A request for `petition` under a fresh request id.
pub fn create(petition: proto::Petition) -> CreatePetitionRequest {
    CreatePetitionRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        petition: Some(petition),
        registering_unit: String::new(),
    }
}

/// Whether each service's list shows the case to `token`.
pub async fn listed(stack: &Stack, token: &str, case_id: &str) -> [bool; 3] {
    let intake = IntakeServiceClient::new(auth::authed(&stack.grpc_url(Svc::Intake), token))
        .list_petitions(xinfang_proto::intake::v1::ListPetitionsRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap_or_else(|status| panic!("petitions: {status:?}\n{}", stack.log_tails(20)))
        .into_inner()
        .petitions
        .iter()
        .any(|p| p.case_id == case_id);
    let routing = RoutingServiceClient::new(auth::authed(&stack.grpc_url(Svc::Routing), token))
        .list_routing_decisions(xinfang_proto::routing::v1::ListRoutingDecisionsRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap_or_else(|status| panic!("decisions: {status:?}\n{}", stack.log_tails(20)))
        .into_inner()
        .decisions
        .iter()
        .any(|d| d.case_id == case_id);
    let supervision =
        SupervisionServiceClient::new(auth::authed(&stack.grpc_url(Svc::Supervision), token))
            .list_case_timelines(xinfang_proto::supervision::v1::ListCaseTimelinesRequest {
                page_size: 500,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|status| panic!("timelines: {status:?}\n{}", stack.log_tails(20)))
            .into_inner()
            .timelines
            .iter()
            .any(|t| t.case_id == case_id);
    [intake, routing, supervision]
}
