//! The outbox relay against a real nats-server and PostgreSQL: the sweep keeps its turn
//! under sustained load, and a row the broker refuses does not hold back the rows after it.

use std::time::Duration;

use async_nats::jetstream;
use sea_orm::TransactionTrait;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use xinfang_platform::config::OutboxConfig;
use xinfang_platform::outbox::relay::outbox_relay;
use xinfang_platform::outbox::{self, OutgoingEvent, entity};
use xinfang_proto::intake::v1::PetitionRegistered;
use xinfang_proto::subjects;
use xinfang_testkit::{NatsServer, TestDatabase};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        xinfang_platform::migrations::shared()
    }
}

fn event(subject: &str) -> OutgoingEvent {
    OutgoingEvent::new(
        subject,
        "intake",
        Uuid::now_v7(),
        OffsetDateTime::now_utc(),
        &PetitionRegistered::default(),
    )
}

async fn stage(db: &DatabaseConnection, events: &[OutgoingEvent]) {
    let transaction = db.begin().await.expect("begin");
    outbox::stage(&transaction, events).await.expect("stage");
    transaction.commit().await.expect("commit");
}

async fn published(db: &DatabaseConnection, id: Uuid) -> bool {
    entity::Entity::find()
        .filter(entity::Column::EventId.eq(id))
        .filter(entity::Column::PublishedAt.is_not_null())
        .count(db)
        .await
        .expect("count")
        == 1
}

struct Relay {
    _nats: NatsServer,
    _database: TestDatabase,
    db: DatabaseConnection,
    handle: outbox::OutboxHandle,
    stop: CancellationToken,
}

impl Relay {
    async fn start(batch_size: u64) -> Self {
        Self::start_after(batch_size, Duration::from_millis(100), &[]).await
    }

    /// Stages `before` and lets it age past one sweep interval before the relay starts,
    /// so its first sweep (at start) finds it.
    async fn start_after(
        batch_size: u64,
        sweep_interval: Duration,
        before: &[OutgoingEvent],
    ) -> Self {
        let nats = NatsServer::start().await.expect("nats-server");
        let database = TestDatabase::postgres().await.expect("database");
        let db = xinfang_platform::database::connect(database.url(), 4)
            .await
            .expect("connect");
        Migrator::up(&db, None).await.expect("migrate");
        if !before.is_empty() {
            stage(&db, before).await;
            tokio::time::sleep(sweep_interval + Duration::from_millis(100)).await;
        }
        let config = nats.config();
        let client = xinfang_platform::jetstream::connect(&config, "test")
            .await
            .expect("connect");
        let jetstream = jetstream::new(client);
        xinfang_platform::jetstream::ensure_stream(&jetstream, subjects::INTAKE_STREAM, &config)
            .await
            .expect("stream");
        let (relay, handle) = outbox_relay(
            db.clone(),
            jetstream,
            OutboxConfig {
                sweep_interval,
                batch_size,
                retention: Duration::from_secs(86_400),
            },
            "intake",
        );
        let stop = CancellationToken::new();
        tokio::spawn(relay.run(stop.clone()));
        Self {
            _nats: nats,
            _database: database,
            db,
            handle,
            stop,
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[tokio::test]
async fn a_row_whose_hint_was_lost_is_published_while_hints_keep_coming() {
    let relay = Relay::start(256).await;
    // Committed, but its hint never reached the relay (a full queue, a crash).
    let orphan = event(subjects::PETITION_REGISTERED);
    stage(&relay.db, std::slice::from_ref(&orphan)).await;
    let load_stops = CancellationToken::new();
    let load = {
        let (db, handle, stop) = (relay.db.clone(), relay.handle.clone(), load_stops.clone());
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                let events: Vec<OutgoingEvent> = (0..20)
                    .map(|_| event(subjects::PETITION_REGISTERED))
                    .collect();
                stage(&db, &events).await;
                handle.committed(events);
            }
        })
    };
    let during_load = tokio::time::timeout(Duration::from_secs(5), async {
        while !published(&relay.db, orphan.envelope.event_id).await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    load_stops.cancel();
    load.await.expect("load");
    assert!(during_load.is_ok(), "the sweep never ran under load");
}

/// Stages `first` and `after` rows behind it, unhinted, and checks that the relay's first
/// sweep (at start) publishes every row behind `first` — not one batch and then a wait for
/// the next interval — and never `first`.
async fn rows_behind_are_published_past(first: OutgoingEvent, after: usize) {
    let after: Vec<OutgoingEvent> = (0..after)
        .map(|_| event(subjects::PETITION_REGISTERED))
        .collect();
    let mut rows = vec![first.clone()];
    rows.extend(after.iter().cloned());
    let relay = Relay::start_after(10, Duration::from_secs(1), &rows).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut out = 0;
    for event in &after {
        out += usize::from(published(&relay.db, event.envelope.event_id).await);
    }
    assert_eq!(out, after.len());
    assert!(!published(&relay.db, first.envelope.event_id).await);
}

#[tokio::test]
async fn a_row_the_broker_refuses_does_not_hold_back_the_rows_after_it() {
    // No stream takes this subject: the broker never acknowledges it.
    rows_behind_are_published_past(event("xinfang.v1.nowhere.petition.registered"), 45).await;
}

#[tokio::test]
async fn a_row_the_client_cannot_send_does_not_hold_back_the_rows_after_it() {
    // Larger than the server's 1 MiB maximum payload: refused before it leaves the client.
    let mut oversized = event(subjects::PETITION_REGISTERED);
    oversized.payload = vec![0u8; 2 * 1024 * 1024].into();
    rows_behind_are_published_past(oversized, 5).await;
}

#[tokio::test]
async fn a_declared_stream_refuses_to_be_purged_or_to_lose_a_message() {
    let nats = NatsServer::start().await.expect("nats-server");
    let config = nats.config();
    let jetstream = jetstream::new(async_nats::connect(nats.url()).await.expect("connect"));
    xinfang_platform::jetstream::ensure_stream(&jetstream, subjects::INTAKE_STREAM, &config)
        .await
        .expect("stream");
    jetstream
        .publish(subjects::PETITION_REGISTERED, "an event".into())
        .await
        .expect("publish")
        .await
        .expect("stored");
    let mut stream = jetstream
        .get_stream(subjects::INTAKE_STREAM.name)
        .await
        .expect("the stream");
    assert!(stream.purge().await.is_err(), "the stream was purged");
    assert!(
        stream.delete_message(1).await.is_err(),
        "a message was deleted"
    );
    assert_eq!(stream.info().await.expect("info").state.messages, 1);
}
