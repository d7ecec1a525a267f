//! The consume loop against a real nats-server and PostgreSQL: each event applied once,
//! poison set aside with its reason, an unknown case retried then set aside, and valid
//! traffic flowing throughout.

use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use prost::Message;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use xinfang_platform::config::NatsConfig;
use xinfang_platform::consumer::{Consumer, ConsumerSpec, Failure, Handler};
use xinfang_platform::envelope::{DEAD_LETTER_REASON, Envelope};
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_proto::{Event, subjects, v1 as proto};
use xinfang_testkit::{NatsServer, PATIENCE, TestDatabase, eventually, stored_messages};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        xinfang_platform::migrations::inbox()
    }
}

/// Records each applied event id in a table whose primary key would refuse a second one.
struct Recorder;

impl Handler for Recorder {
    type Event = proto::PetitionRegistered;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Self::Event, String> {
        match envelope.event_type.as_str() {
            proto::PetitionRegistered::TYPE => proto::PetitionRegistered::decode(payload)
                .map_err(|error| format!("undecodable {}: {error}", envelope.event_type)),
            other => Err(format!("unknown event type {other}")),
        }
    }

    async fn apply(
        &self,
        transaction: &DatabaseTransaction,
        envelope: &Envelope,
        event: Self::Event,
    ) -> Result<Vec<OutgoingEvent>, Failure> {
        if event.territory_code == "nowhere" {
            return Err(Failure::UnknownCase);
        }
        transaction
            .execute_unprepared(&format!(
                "INSERT INTO applied (event_id) VALUES ('{}')",
                envelope.event_id
            ))
            .await?;
        Ok(Vec::new())
    }
}

struct Harness {
    _nats: NatsServer,
    _database: TestDatabase,
    db: DatabaseConnection,
    jetstream: jetstream::Context,
    shutdown: CancellationToken,
}

impl Harness {
    async fn start() -> Self {
        let nats = NatsServer::start().await.expect("nats-server");
        let database = TestDatabase::postgres().await.expect("database");
        let db = xinfang_platform::database::connect(database.url(), 4)
            .await
            .expect("connect");
        Migrator::up(&db, None).await.expect("migrate");
        db.execute_unprepared("CREATE TABLE applied (event_id TEXT PRIMARY KEY)")
            .await
            .expect("table");
        let config = nats_config(&nats);
        let client = xinfang_platform::jetstream::connect(&config, "test")
            .await
            .expect("connect");
        let jetstream = jetstream::new(client);
        xinfang_platform::jetstream::ensure_stream(&jetstream, subjects::INTAKE_STREAM, &config)
            .await
            .expect("stream");
        let shutdown = CancellationToken::new();
        let consumer = Consumer {
            db: db.clone(),
            jetstream: jetstream.clone(),
            spec: ConsumerSpec {
                name: "recorder".into(),
                stream: subjects::INTAKE_STREAM,
                filter_subjects: vec![subjects::INTAKE_STREAM.subjects.into()],
                max_deliver: 3,
                retry_delay: Duration::from_millis(50),
            },
            handler: Recorder,
            outbox: None,
        };
        let stop = shutdown.clone();
        tokio::spawn(async move { consumer.run(&config, stop).await.expect("consumer runs") });
        Self {
            _nats: nats,
            _database: database,
            db,
            jetstream,
            shutdown,
        }
    }

    async fn publish(&self, headers: Option<async_nats::HeaderMap>, payload: Vec<u8>) {
        let subject = subjects::PETITION_REGISTERED;
        let ack = match headers {
            Some(headers) => {
                self.jetstream
                    .publish_with_headers(subject, headers, Bytes::from(payload))
                    .await
            }
            None => self.jetstream.publish(subject, Bytes::from(payload)).await,
        };
        ack.expect("publish").await.expect("acknowledged");
    }

    async fn applied(&self) -> i64 {
        let row = self.db.query_one_raw(sea_orm::Statement::from_string(
            self.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM applied",
        ));
        row.await
            .expect("count")
            .expect("a row")
            .try_get("", "n")
            .expect("n")
    }

    /// The reasons of everything dead-lettered, once `expected` are there.
    async fn dead_letter_reasons(&self, expected: usize) -> Vec<String> {
        let messages =
            stored_messages(&self.jetstream, subjects::DEAD_LETTER_STREAM.name, expected).await;
        messages
            .iter()
            .map(|message| {
                assert_eq!(message.subject.as_str(), "xinfang.v1.deadletter.recorder");
                let reason = message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(DEAD_LETTER_REASON));
                reason
                    .map(|v| v.as_str().to_owned())
                    .expect("a reason header")
            })
            .collect()
    }

    async fn wait_until_applied(&self, expected: i64) {
        eventually(PATIENCE, || async {
            (self.applied().await >= expected).then_some(())
        })
        .await;
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn nats_config(nats: &NatsServer) -> NatsConfig {
    NatsConfig {
        url: nats.url(),
        stream_replicas: 1,
        duplicate_window: Duration::from_secs(120),
        user: None,
        password: None,
    }
}

fn registered(territory: &str) -> (Envelope, Vec<u8>) {
    let event = proto::PetitionRegistered {
        territory_code: territory.into(),
        ..Default::default()
    };
    let outgoing = OutgoingEvent::new(
        subjects::PETITION_REGISTERED,
        "intake",
        Uuid::now_v7(),
        time::OffsetDateTime::now_utc(),
        &event,
    );
    (outgoing.envelope, outgoing.payload.to_vec())
}

#[tokio::test]
async fn an_event_delivered_twice_is_applied_once() {
    let harness = Harness::start().await;
    let (envelope, payload) = registered("dongcheng");
    harness
        .publish(Some(envelope.to_headers()), payload.clone())
        .await;
    // The same event again under another broker id, as a redrive after the duplicate
    // window would publish it.
    let mut again = envelope.to_headers();
    again.insert("Nats-Msg-Id", Uuid::now_v7().to_string().as_str());
    harness.publish(Some(again), payload).await;
    let (next, payload) = registered("xijiao");
    harness.publish(Some(next.to_headers()), payload).await;

    harness.wait_until_applied(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(harness.applied().await, 2);
    assert_eq!(harness.dead_letter_reasons(0).await, Vec::<String>::new());
}

#[tokio::test]
async fn poison_is_dead_lettered_with_its_reason_and_valid_traffic_flows() {
    let harness = Harness::start().await;
    harness
        .publish(None, b"\x00\xffrandom bytes".to_vec())
        .await;
    let (mut envelope, payload) = registered("dongcheng");
    envelope.event_type = "xinfang.v1.NoSuchEvent".into();
    harness.publish(Some(envelope.to_headers()), payload).await;
    let (envelope, _) = registered("dongcheng");
    harness
        .publish(Some(envelope.to_headers()), vec![0xff, 0xff, 0xff])
        .await;
    let (valid, payload) = registered("xijiao");
    harness.publish(Some(valid.to_headers()), payload).await;

    let reasons = harness.dead_letter_reasons(3).await;
    assert_eq!(reasons.len(), 3);
    assert_eq!(reasons[0], "unreadable envelope: message has no headers");
    assert_eq!(reasons[1], "unknown event type xinfang.v1.NoSuchEvent");
    assert!(
        reasons[2].starts_with("undecodable xinfang.v1.PetitionRegistered"),
        "{}",
        reasons[2]
    );
    harness.wait_until_applied(1).await;
    assert_eq!(harness.applied().await, 1);
}

#[tokio::test]
async fn an_event_for_an_unknown_case_is_retried_then_dead_lettered() {
    let harness = Harness::start().await;
    let (orphan, payload) = registered("nowhere");
    harness.publish(Some(orphan.to_headers()), payload).await;
    let (valid, payload) = registered("xijiao");
    harness.publish(Some(valid.to_headers()), payload).await;

    assert_eq!(harness.dead_letter_reasons(1).await, ["unknown case"]);
    harness.wait_until_applied(1).await;
    assert_eq!(harness.applied().await, 1);
}
