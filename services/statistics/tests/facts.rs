//! Statistics' facts on a real PostgreSQL: kept once per event whatever the order or the
//! redeliveries, folded into the same records, and read as they stood at any moment.

use prost::Message;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;
use xinfang_platform::consumer::Handler;
use xinfang_platform::envelope::Envelope;
use xinfang_platform::wire::{calendar_date, timestamp};
use xinfang_platform::write;
use xinfang_proto::Event;
use xinfang_proto::intake::v1::PetitionRegistered;
use xinfang_proto::routing::v1::PetitionRouted;
use xinfang_proto::statistics::v1::{Count, Figures};
use xinfang_proto::supervision::v1::{CaseAdvanced, TimelineOpened};
use xinfang_proto::v1 as proto;
use xinfang_statistics::figures::Filter;
use xinfang_statistics::formula::formula;
use xinfang_statistics::keep::KeepFacts;
use xinfang_statistics::migrations::Migrator;
use xinfang_statistics::overview::consistent_overview;
use xinfang_statistics::period::Period;
use xinfang_statistics::query::{Asked, read_figures};
use xinfang_statistics::store::event_fact;
use xinfang_testkit::TestDatabase;

/// One event as a consumer receives it: its id, its time, its payload.
struct Delivery {
    envelope: Envelope,
    payload: Vec<u8>,
}

fn delivery<E: Event>(case_id: Uuid, at: OffsetDateTime, event: &E) -> Delivery {
    Delivery {
        envelope: Envelope {
            event_id: Uuid::now_v7(),
            event_type: E::full_name(),
            source: "/xinfang/test".into(),
            case_id,
            occurred_at: at,
            traceparent: None,
        },
        payload: event.encode_to_vec(),
    }
}

async fn apply(db: &DatabaseConnection, delivery: &Delivery) {
    let decoded = KeepFacts
        .decode(&delivery.envelope, &delivery.payload)
        .expect("a valid event");
    let transaction = db.begin().await.expect("begin");
    write::apply(
        &transaction,
        &KeepFacts.change(&delivery.envelope, &decoded),
        OffsetDateTime::now_utc(),
    )
    .await
    .expect("applied");
    transaction.commit().await.expect("commit");
}

async fn database() -> (TestDatabase, DatabaseConnection) {
    let database = TestDatabase::postgres().await.expect("database");
    let db = xinfang_platform::database::connect(database.url(), 2)
        .await
        .expect("connect");
    Migrator::up(&db, None).await.expect("migrate");
    (database, db)
}

fn cases(counts: &[Count], key: &str) -> u64 {
    counts
        .iter()
        .find(|c| c.key == key)
        .map(|c| c.cases)
        .unwrap_or(0)
}

fn registered(case_id: Uuid, at: OffsetDateTime) -> Delivery {
    delivery(
        case_id,
        at,
        &PetitionRegistered {
            case_id: case_id.to_string(),
            case_number: format!("610481-2026-{}", &case_id.simple().to_string()[26..]),
            channel: proto::Channel::Online as i32,
            source: Some(proto::PetitionSource {
                level: proto::SourceLevel::Local as i32,
                ..Default::default()
            }),
            registered_at: Some(timestamp(at)),
            first_time: true,
            ..Default::default()
        },
    )
}

fn routed(case_id: Uuid, at: OffsetDateTime, unit: &str, revision: u32, after: &str) -> Delivery {
    delivery(
        case_id,
        at,
        &PetitionRouted {
            case_id: case_id.to_string(),
            unit_code: unit.into(),
            unit_path: vec!["xfj".into(), unit.into()],
            disposition: proto::RoutingDisposition::Forward as i32,
            track: proto::LegalTrack::Appeal as i32,
            routed_at: Some(timestamp(at)),
            revision,
            previous_unit_code: after.into(),
            after_objection: !after.is_empty(),
            ..Default::default()
        },
    )
}

fn deadline(
    kind: proto::DeadlineKind,
    due: time::Date,
    met_on: Option<time::Date>,
) -> proto::Deadline {
    proto::Deadline {
        kind: kind as i32,
        start: Some(calendar_date(due - time::Duration::days(15))),
        due: Some(calendar_date(due)),
        met_on: met_on.map(calendar_date),
        state: if met_on.is_some() {
            proto::DeadlineState::MetInTime as i32
        } else {
            proto::DeadlineState::Running as i32
        },
        ..Default::default()
    }
}

fn step(
    case_id: Uuid,
    at: OffsetDateTime,
    stage: proto::CaseStage,
    deadlines: Vec<proto::Deadline>,
) -> Delivery {
    delivery(
        case_id,
        at,
        &CaseAdvanced {
            case_id: case_id.to_string(),
            unit_code: "zhaocun".into(),
            stage: stage as i32,
            occurred_on: Some(calendar_date(at.date())),
            recorded_at: Some(timestamp(at)),
            deadlines,
            ..Default::default()
        },
    )
}

fn asked(period: &str, as_of: Option<OffsetDateTime>) -> Asked {
    Asked {
        period: Period::parse(period).expect("period"),
        filter: Filter::default(),
        as_of,
        formula: formula("v1").expect("v1"),
    }
}

async fn figures(db: &DatabaseConnection, period: &str, as_of: Option<OffsetDateTime>) -> Figures {
    read_figures(db, &asked(period, as_of), datetime!(2026-06-30 12:00 +8))
        .await
        .expect("figures")
}

#[tokio::test]
async fn a_timeline_before_its_routing_counts_the_case_once_under_its_unit() {
    let (_database, db) = database().await;
    let case_id = Uuid::now_v7();
    let at = datetime!(2026-03-02 09:00 +8);
    // Timeline first, registration second; the routing decision has not arrived at all.
    apply(
        &db,
        &delivery(
            case_id,
            at,
            &TimelineOpened {
                case_id: case_id.to_string(),
                unit_code: "zhaocun".into(),
                unit_path: vec!["xfj".into(), "zhaocun".into()],
                opened_at: Some(timestamp(at)),
                ..Default::default()
            },
        ),
    )
    .await;
    apply(&db, &registered(case_id, at)).await;

    let overview = consistent_overview(&db, at).await.expect("overview");
    assert_eq!(overview.cases, 1);
    assert_eq!(cases(&overview.by_unit, "zhaocun"), 1);
    assert_eq!(overview.timelines_opened, 1);
    assert_eq!(cases(&overview.by_status, "in-deadline"), 1);
}

#[tokio::test]
async fn a_re_routed_case_keeps_its_first_unit_as_a_wrong_routing_and_counts_under_the_new_one() {
    let (_database, db) = database().await;
    let case_id = Uuid::now_v7();
    let at = datetime!(2026-03-02 09:00 +8);
    apply(&db, &registered(case_id, at)).await;
    // The correcting decision arrives before the first one.
    apply(
        &db,
        &routed(
            case_id,
            at + time::Duration::days(3),
            "dongcheng",
            2,
            "zhaocun",
        ),
    )
    .await;
    apply(
        &db,
        &routed(case_id, at + time::Duration::hours(1), "zhaocun", 1, ""),
    )
    .await;

    let facts = event_fact::Entity::find().count(&db).await.expect("count");
    assert_eq!(facts, 3, "every event kept, none overwritten");
    let overview = consistent_overview(&db, at).await.expect("overview");
    assert_eq!(cases(&overview.wrong_routings_by_unit, "zhaocun"), 1);
    assert_eq!(cases(&overview.by_unit, "dongcheng"), 1);
    assert_eq!(cases(&overview.by_unit, "zhaocun"), 0);
}

#[tokio::test]
async fn an_event_delivered_again_is_kept_once() {
    let (_database, db) = database().await;
    let case_id = Uuid::now_v7();
    let registration = registered(case_id, datetime!(2026-03-02 09:00 +8));
    apply(&db, &registration).await;
    apply(&db, &registration).await;
    assert_eq!(
        event_fact::Entity::find().count(&db).await.expect("count"),
        1
    );
    assert_eq!(figures(&db, "2026-03", None).await.petitions, 1);
}

#[tokio::test]
async fn last_months_figures_as_of_a_day_are_unchanged_by_later_events() {
    let (_database, db) = database().await;
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let march = datetime!(2026-03-02 09:00 +8);
    let end_of_march = datetime!(2026-03-31 23:59:59 +8);
    let notice_due = time::macros::date!(2026 - 03 - 20);
    let handling_due = time::macros::date!(2026 - 05 - 10);
    apply(&db, &registered(first, march)).await;
    apply(&db, &routed(first, march, "zhaocun", 1, "")).await;
    apply(
        &db,
        &step(
            first,
            datetime!(2026-03-10 10:00 +8),
            proto::CaseStage::Accepted,
            vec![
                deadline(
                    proto::DeadlineKind::NoticeOfReceipt,
                    notice_due,
                    Some(time::macros::date!(2026 - 03 - 10)),
                ),
                deadline(proto::DeadlineKind::Handling, handling_due, None),
            ],
        ),
    )
    .await;
    let before = figures(&db, "2026-03", Some(end_of_march)).await;

    // April: the case is replied to and served; a petition registered in March is only
    // entered now (its registration event is April's).
    let served = |stage, day| {
        step(
            first,
            day,
            stage,
            vec![
                deadline(
                    proto::DeadlineKind::NoticeOfReceipt,
                    notice_due,
                    Some(time::macros::date!(2026 - 03 - 10)),
                ),
                deadline(
                    proto::DeadlineKind::Handling,
                    handling_due,
                    Some(day.date()),
                ),
            ],
        )
    };
    apply(
        &db,
        &served(proto::CaseStage::Replied, datetime!(2026-04-10 10:00 +8)),
    )
    .await;
    apply(
        &db,
        &served(proto::CaseStage::Completed, datetime!(2026-04-12 10:00 +8)),
    )
    .await;
    let mut late_entry = registered(second, datetime!(2026-04-02 09:00 +8));
    late_entry.payload = PetitionRegistered {
        registered_at: Some(timestamp(datetime!(2026-03-30 09:00 +8))),
        ..PetitionRegistered::decode(late_entry.payload.as_slice()).expect("decode")
    }
    .encode_to_vec();
    apply(&db, &late_entry).await;

    let after = figures(&db, "2026-03", Some(end_of_march)).await;
    assert_eq!(before.encode_to_vec(), after.encode_to_vec());
    assert_eq!(
        after.status.as_ref().map(|s| (s.cases, s.done)),
        Some((1, 0))
    );
    assert_eq!(
        after.timely_acceptance.as_ref().map(|r| r.numerator),
        Some(1)
    );
    // As things stand now, March has two cases and one is done.
    let now = figures(&db, "2026-03", None).await;
    assert_eq!(now.status.as_ref().map(|s| (s.cases, s.done)), Some((2, 1)));
    assert_eq!(
        now.on_time_completion
            .as_ref()
            .map(|r| (r.numerator, r.denominator)),
        Some((1, 1))
    );
}

#[tokio::test]
async fn the_same_events_in_another_order_give_the_same_figures_byte_for_byte() {
    let (_a, live) = database().await;
    let (_b, replayed) = database().await;
    let case_id = Uuid::now_v7();
    let at = datetime!(2026-03-02 09:00 +8);
    let deliveries = [
        registered(case_id, at),
        routed(case_id, at + time::Duration::hours(1), "zhaocun", 1, ""),
        routed(
            case_id,
            at + time::Duration::days(2),
            "dongcheng",
            2,
            "zhaocun",
        ),
        step(
            case_id,
            datetime!(2026-03-05 10:00 +8),
            proto::CaseStage::Accepted,
            vec![deadline(
                proto::DeadlineKind::Handling,
                time::macros::date!(2026 - 05 - 04),
                None,
            )],
        ),
    ];
    for delivery in &deliveries {
        apply(&live, delivery).await;
    }
    for delivery in deliveries.iter().rev() {
        apply(&replayed, delivery).await;
    }
    for as_of in [None, Some(datetime!(2026-03-03 00:00 +8))] {
        assert_eq!(
            figures(&live, "2026-H1", as_of).await.encode_to_vec(),
            figures(&replayed, "2026-H1", as_of).await.encode_to_vec(),
        );
    }
}

#[tokio::test]
async fn two_consumers_folding_one_case_at_once_lose_neither_fact() {
    let (_database, db) = database().await;
    let case_id = Uuid::now_v7();
    let at = datetime!(2026-03-02 09:00 +8);
    let registration = registered(case_id, at);
    let timeline = delivery(
        case_id,
        at,
        &TimelineOpened {
            case_id: case_id.to_string(),
            unit_code: "zhaocun".into(),
            unit_path: vec!["xfj".into(), "zhaocun".into()],
            opened_at: Some(timestamp(at)),
            ..Default::default()
        },
    );
    // The registration's consumer has folded the case and not committed yet when the
    // timeline's consumer folds it.
    let first = db.begin().await.expect("begin");
    let decoded = KeepFacts
        .decode(&registration.envelope, &registration.payload)
        .expect("valid");
    write::apply(
        &first,
        &KeepFacts.change(&registration.envelope, &decoded),
        OffsetDateTime::now_utc(),
    )
    .await
    .expect("applied");
    let other = db.clone();
    let second = tokio::spawn(async move { apply(&other, &timeline).await });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    first.commit().await.expect("commit");
    second.await.expect("the second fold");

    let overview = consistent_overview(&db, at).await.expect("overview");
    assert_eq!((overview.cases, overview.timelines_opened), (1, 1));
}

#[tokio::test]
async fn the_overview_splits_the_cases_as_the_figures_do() {
    let (_database, db) = database().await;
    let (done, overdue, running) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let at = datetime!(2026-03-02 09:00 +8);
    let handling = |due, met| deadline(proto::DeadlineKind::Handling, due, met);
    for case_id in [done, overdue, running] {
        apply(&db, &registered(case_id, at)).await;
    }
    apply(
        &db,
        &step(
            done,
            datetime!(2026-04-01 09:00 +8),
            proto::CaseStage::Completed,
            vec![handling(
                time::macros::date!(2026 - 05 - 01),
                Some(time::macros::date!(2026 - 04 - 01)),
            )],
        ),
    )
    .await;
    apply(
        &db,
        &step(
            overdue,
            datetime!(2026-03-03 09:00 +8),
            proto::CaseStage::Accepted,
            vec![handling(time::macros::date!(2026 - 05 - 01), None)],
        ),
    )
    .await;
    apply(
        &db,
        &step(
            running,
            datetime!(2026-03-03 09:00 +8),
            proto::CaseStage::Accepted,
            vec![handling(time::macros::date!(2026 - 07 - 01), None)],
        ),
    )
    .await;
    let today = datetime!(2026-06-30 12:00 +8);
    let overview = consistent_overview(&db, today).await.expect("overview");
    let status = figures(&db, "2026-H1", None).await.status.expect("a split");
    assert_eq!(
        (
            cases(&overview.by_status, "done"),
            cases(&overview.by_status, "in-deadline"),
            cases(&overview.by_status, "overdue")
        ),
        (status.done, status.in_deadline, status.overdue)
    );
    assert_eq!((status.done, status.in_deadline, status.overdue), (1, 1, 1));
}
