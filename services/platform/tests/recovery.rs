//! The two ways back for events that went astray, on a real nats-server and PostgreSQL:
//! redrive publishes a time range of the outbox again with the original ids, and the
//! max-deliveries advisory dead-letters what a consumer never finished.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, stream};
use futures::StreamExt;
use sea_orm::TransactionTrait;
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use xinfang_platform::consumer::set_aside_exhausted;
use xinfang_platform::envelope::DEAD_LETTER_REASON;
use xinfang_platform::outbox::{self, OutgoingEvent, redrive::redrive};
use xinfang_proto::subjects;
use xinfang_testkit::{NatsServer, TestDatabase, stored_messages};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        xinfang_platform::migrations::shared()
    }
}

async fn stream_with_short_memory(jetstream: &jetstream::Context) {
    jetstream
        .create_stream(stream::Config {
            name: subjects::INTAKE_STREAM.name.to_owned(),
            subjects: vec![subjects::INTAKE_STREAM.subjects.to_owned()],
            // Short, so the test can outlive it as a real loss outlives the window.
            duplicate_window: Duration::from_secs(1),
            ..Default::default()
        })
        .await
        .expect("stream");
}

fn event(at: OffsetDateTime) -> OutgoingEvent {
    OutgoingEvent::new(
        subjects::PETITION_REGISTERED,
        "intake",
        Uuid::now_v7(),
        at,
        &xinfang_proto::intake::v1::PetitionRegistered::default(),
    )
}

#[tokio::test]
async fn redrive_publishes_the_range_again_with_the_original_ids() {
    let nats = NatsServer::start().await.expect("nats-server");
    let database = TestDatabase::postgres().await.expect("database");
    let db = xinfang_platform::database::connect(database.url(), 2)
        .await
        .expect("connect");
    Migrator::up(&db, None).await.expect("migrate");
    let jetstream = jetstream::new(async_nats::connect(nats.url()).await.expect("connect"));
    stream_with_short_memory(&jetstream).await;

    let noon = time::macros::datetime!(2026-11-25 12:00 UTC);
    let events: Vec<OutgoingEvent> = (0..3)
        .map(|hour| event(noon + time::Duration::hours(hour)))
        .collect();
    let transaction = db.begin().await.expect("begin");
    outbox::stage(&transaction, &events).await.expect("stage");
    transaction.commit().await.expect("commit");

    let all = redrive(
        &db,
        &jetstream,
        "intake",
        noon,
        noon + time::Duration::hours(3),
    )
    .await;
    assert_eq!(all.expect("redrive"), 3);
    // The broker forgot the ids (its window passed): only the later two are asked for again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = redrive(
        &db,
        &jetstream,
        "intake",
        noon + time::Duration::hours(1),
        noon + time::Duration::hours(9),
    )
    .await;
    assert_eq!(later.expect("redrive"), 2);

    let stored = stored_messages(&jetstream, subjects::INTAKE_STREAM.name, 5).await;
    let ids: Vec<String> = stored
        .iter()
        .map(|m| {
            m.headers
                .as_ref()
                .and_then(|h| h.get("ce-id"))
                .map(|v| v.to_string())
                .unwrap_or_default()
        })
        .collect();
    let original: Vec<String> = events
        .iter()
        .map(|e| e.envelope.event_id.to_string())
        .collect();
    assert_eq!(ids, [&original[..], &original[1..]].concat());
}

#[tokio::test]
async fn an_empty_range_is_refused() {
    let nats = NatsServer::start().await.expect("nats-server");
    let database = TestDatabase::postgres().await.expect("database");
    let db = xinfang_platform::database::connect(database.url(), 2)
        .await
        .expect("connect");
    let jetstream = jetstream::new(async_nats::connect(nats.url()).await.expect("connect"));
    let noon = time::macros::datetime!(2026-11-25 12:00 UTC);
    let refused = redrive(&db, &jetstream, "intake", noon, noon).await;
    assert!(matches!(
        refused,
        Err(outbox::redrive::RedriveError::EmptyRange { .. })
    ));
}

/// The intake stream with a short duplicate window, and the dead-letter and notice streams
/// as the operator declares them.
async fn streams_for_the_backstop(nats: &NatsServer) -> jetstream::Context {
    let jetstream = jetstream::new(nats.client().await.expect("connect"));
    stream_with_short_memory(&jetstream).await;
    for spec in [subjects::DEAD_LETTER_STREAM, subjects::ADVISORY_STREAM] {
        jetstream
            .create_stream(xinfang_platform::jetstream::stream_config(
                spec,
                &nats.config(),
            ))
            .await
            .expect("stream");
    }
    jetstream
}

/// How a consumer lets go of each of its two deliveries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LetGo {
    /// Its process "dies" with every delivery: it never acknowledges.
    Dies,
    /// It hands the message back (a drain) each time.
    HandsBack,
}

/// A message delivered twice to a consumer that lets go of it each time, so the server
/// gives up on it.
async fn exhaust_one_message(jetstream: &jetstream::Context, let_go: LetGo) {
    let consumer = jetstream
        .get_stream(subjects::INTAKE_STREAM.name)
        .await
        .expect("stream")
        .create_consumer(pull::Config {
            durable_name: Some("routing".to_owned()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_millis(300),
            max_deliver: 2,
            ..Default::default()
        })
        .await
        .expect("consumer");
    jetstream
        .publish(subjects::PETITION_REGISTERED, "stuck".into())
        .await
        .expect("publish")
        .await
        .expect("stored");
    let mut messages = consumer.messages().await.expect("messages");
    for _ in 0..2 {
        let message = messages
            .next()
            .await
            .expect("a delivery")
            .expect("a message");
        if let_go == LetGo::HandsBack {
            message
                .ack_with(jetstream::AckKind::Nak(None))
                .await
                .expect("handed back");
        }
    }
    // The notice fires when the server would deliver a third time.
    tokio::time::sleep(Duration::from_millis(600)).await;
}

fn assert_set_aside_once(dead: &[jetstream::Message]) {
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].subject.as_str(), "xinfang.v1.deadletter.routing");
    assert_eq!(dead[0].payload.as_ref(), b"stuck");
    let reason = dead[0]
        .headers
        .as_ref()
        .and_then(|h| h.get(DEAD_LETTER_REASON))
        .map(|v| v.to_string());
    assert_eq!(
        reason.as_deref(),
        Some("delivered 2 times without being applied (max deliveries)")
    );
}

fn backstop(jetstream: &jetstream::Context, shutdown: &CancellationToken) {
    tokio::spawn(set_aside_exhausted(
        jetstream.clone(),
        subjects::INTAKE_STREAM.name,
        "routing".to_owned(),
        shutdown.clone(),
    ));
}

#[tokio::test]
async fn a_message_no_delivery_finished_is_dead_lettered_from_the_advisory() {
    let nats = NatsServer::start().await.expect("nats-server");
    let jetstream = streams_for_the_backstop(&nats).await;
    let shutdown = CancellationToken::new();
    backstop(&jetstream, &shutdown);
    tokio::time::sleep(Duration::from_millis(200)).await;

    exhaust_one_message(&jetstream, LetGo::Dies).await;

    let dead = stored_messages(&jetstream, subjects::DEAD_LETTER_STREAM.name, 1).await;
    shutdown.cancel();
    assert_set_aside_once(&dead);
}

#[tokio::test]
async fn a_message_exhausted_while_its_service_was_down_is_dead_lettered_at_the_next_start() {
    let nats = NatsServer::start().await.expect("nats-server");
    let jetstream = streams_for_the_backstop(&nats).await;
    // The service is down: no backstop runs while the server gives up on the message.
    exhaust_one_message(&jetstream, LetGo::Dies).await;
    assert!(
        stored_messages(&jetstream, subjects::DEAD_LETTER_STREAM.name, 0)
            .await
            .is_empty()
    );

    let shutdown = CancellationToken::new();
    backstop(&jetstream, &shutdown);
    let dead = stored_messages(&jetstream, subjects::DEAD_LETTER_STREAM.name, 1).await;
    // The notice was acknowledged once the dead letter was stored: none waits any more.
    let notices = xinfang_testkit::eventually(Duration::from_secs(10), || async {
        let mut reader = jetstream
            .get_stream(subjects::ADVISORY_STREAM.name)
            .await
            .ok()?
            .get_consumer::<pull::Config>(&subjects::exhausted_consumer("routing"))
            .await
            .ok()?;
        let info = reader.info().await.ok()?;
        (info.num_pending == 0 && info.num_ack_pending == 0)
            .then_some(info.delivered.stream_sequence)
    })
    .await;
    assert_eq!(notices, 1, "one notice, handled");
    // A second start does not set it aside again.
    shutdown.cancel();
    let again = CancellationToken::new();
    backstop(&jetstream, &again);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = stored_messages(&jetstream, subjects::DEAD_LETTER_STREAM.name, 1).await;
    again.cancel();
    assert_set_aside_once(&dead);
    assert_eq!(after.len(), 1);
}

#[tokio::test]
async fn a_message_handed_back_on_its_last_delivery_is_dead_lettered_not_forgotten() {
    let nats = NatsServer::start().await.expect("nats-server");
    let jetstream = streams_for_the_backstop(&nats).await;
    let shutdown = CancellationToken::new();
    backstop(&jetstream, &shutdown);
    exhaust_one_message(&jetstream, LetGo::HandsBack).await;

    let dead = stored_messages(&jetstream, subjects::DEAD_LETTER_STREAM.name, 1).await;
    shutdown.cancel();
    assert_set_aside_once(&dead);
}

#[tokio::test]
async fn redrive_on_sqlite_selects_the_range_whatever_offset_it_is_written_in() {
    let nats = NatsServer::start().await.expect("nats-server");
    let database = TestDatabase::sqlite().expect("database");
    let db = xinfang_platform::database::connect(database.url(), 1)
        .await
        .expect("connect");
    Migrator::up(&db, None).await.expect("migrate");
    let jetstream = jetstream::new(async_nats::connect(nats.url()).await.expect("connect"));
    stream_with_short_memory(&jetstream).await;

    // Events at 10:00, 11:00 and 12:00 UTC, one of them recorded in China Standard Time.
    let ten = time::macros::datetime!(2026-11-25 10:00 UTC);
    let events: Vec<OutgoingEvent> = vec![
        event(ten),
        event((ten + time::Duration::hours(1)).to_offset(time::macros::offset!(+8))),
        event(ten + time::Duration::hours(2)),
    ];
    let transaction = db.begin().await.expect("begin");
    outbox::stage(&transaction, &events).await.expect("stage");
    transaction.commit().await.expect("commit");

    // From 19:00 China Standard Time (11:00 UTC), as an operator in Xingping writes it.
    let from = time::macros::datetime!(2026-11-25 19:00 +8);
    let redriven = redrive(
        &db,
        &jetstream,
        "intake",
        from,
        from + time::Duration::hours(6),
    )
    .await;
    assert_eq!(redriven.expect("redrive"), 2);
}
