//! Events of one case come on three streams read independently, so statistics may learn
//! of a timeline before the routing decision that caused it. The figures must not care.

use sea_orm::TransactionTrait;
use sea_orm_migration::MigratorTrait;
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::consumer::Handler;
use xinfang_platform::envelope::Envelope;
use xinfang_platform::wire::timestamp;
use xinfang_platform::write;
use xinfang_proto::Event;
use xinfang_proto::intake::v1::PetitionRegistered;
use xinfang_proto::statistics::v1::Count;
use xinfang_proto::supervision::v1::TimelineOpened;
use xinfang_proto::v1 as proto;
use xinfang_statistics::count::CountCases;
use xinfang_statistics::migrations::Migrator;
use xinfang_statistics::overview::consistent_overview;
use xinfang_testkit::TestDatabase;

fn envelope<E: Event>(case_id: Uuid) -> Envelope {
    Envelope {
        event_id: Uuid::now_v7(),
        event_type: E::full_name(),
        source: "/xinfang/test".into(),
        case_id,
        occurred_at: OffsetDateTime::now_utc(),
        traceparent: None,
    }
}

async fn apply<E: Event>(db: &sea_orm::DatabaseConnection, case_id: Uuid, event: &E) {
    let envelope = envelope::<E>(case_id);
    let decoded = CountCases
        .decode(&envelope, &event.encode_to_vec())
        .expect("a valid event");
    let transaction = db.begin().await.expect("begin");
    write::apply(
        &transaction,
        &CountCases.change(&envelope, &decoded),
        OffsetDateTime::now_utc(),
    )
    .await
    .expect("applied");
    transaction.commit().await.expect("commit");
}

fn cases(counts: &[Count], key: &str) -> u64 {
    counts
        .iter()
        .find(|c| c.key == key)
        .map(|c| c.cases)
        .unwrap_or(0)
}

#[tokio::test]
async fn a_timeline_before_its_routing_counts_the_case_once_under_its_unit() {
    let database = TestDatabase::postgres().await.expect("database");
    let db = xinfang_platform::database::connect(database.url(), 2)
        .await
        .expect("connect");
    Migrator::up(&db, None).await.expect("migrate");
    let case_id = Uuid::now_v7();
    let now = Some(timestamp(OffsetDateTime::now_utc()));

    // Timeline first, registration second; the routing decision has not arrived at all.
    apply(
        &db,
        case_id,
        &TimelineOpened {
            case_id: case_id.to_string(),
            case_number: "610481-2026-000001".into(),
            unit_code: "zhaocun".into(),
            opened_at: now,
            ..Default::default()
        },
    )
    .await;
    apply(
        &db,
        case_id,
        &PetitionRegistered {
            case_id: case_id.to_string(),
            case_number: "610481-2026-000001".into(),
            channel: proto::Channel::Letter as i32,
            source: Some(proto::PetitionSource {
                level: proto::SourceLevel::Local as i32,
                ..Default::default()
            }),
            registered_at: now,
            ..Default::default()
        },
    )
    .await;

    let overview = consistent_overview(&db).await.expect("overview");
    assert_eq!(overview.cases, 1);
    assert_eq!(cases(&overview.by_unit, "zhaocun"), 1);
    assert_eq!(cases(&overview.by_status, "supervised"), 1);
    assert_eq!(cases(&overview.by_status, "registered"), 0);
    assert_eq!(cases(&overview.by_status, "routed"), 0);
}
