//! The consume loop against a real nats-server and PostgreSQL: each event applied once,
//! poison set aside with its reason, an unknown case retried then set aside, and valid
//! traffic flowing throughout.

use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use prost::Message;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use xinfang_platform::config::ConsumerConfig;
use xinfang_platform::consumer::{Consumer, ConsumerSpec, Failure, Handler};
use xinfang_platform::envelope::{DEAD_LETTER_REASON, Envelope};
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::write::{Change, Clock, Decided};
use xinfang_proto::intake::v1::PetitionRegistered;
use xinfang_proto::{Name, subjects};
use xinfang_testkit::{NatsServer, PATIENCE, TestDatabase, eventually, stored_messages};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        xinfang_platform::migrations::inbox()
    }
}

/// Records each applied event id, in the order applied, in a table whose primary key
/// would refuse a second one. The territory steers it: `nowhere` is an unknown case,
/// `flaky` fails on its first try, `hang` never finishes while `hang` is armed.
#[derive(Clone, Default)]
struct Recorder {
    tried: Arc<Mutex<HashSet<Uuid>>>,
    hang: bool,
    /// Once set, the case of `nowhere` is known (as after a clerk fixed what was missing).
    nowhere_known: Arc<std::sync::atomic::AtomicBool>,
}

impl Handler for Recorder {
    type Event = PetitionRegistered;
    type Change = Record;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Self::Event, String> {
        if envelope.event_type == PetitionRegistered::full_name() {
            PetitionRegistered::decode(payload)
                .map_err(|error| format!("undecodable {}: {error}", envelope.event_type))
        } else {
            Err(format!("unknown event type {}", envelope.event_type))
        }
    }

    fn change(&self, envelope: &Envelope, event: &Self::Event) -> Record {
        let first_try = self
            .tried
            .lock()
            .expect("the tried set")
            .insert(envelope.event_id);
        Record {
            event_id: envelope.event_id,
            case_id: envelope.case_id,
            territory: event.territory_code.clone(),
            first_try,
            hang: self.hang,
            nowhere_known: self.nowhere_known.load(std::sync::atomic::Ordering::SeqCst),
        }
    }
}

struct Record {
    event_id: Uuid,
    case_id: Uuid,
    territory: String,
    first_try: bool,
    hang: bool,
    nowhere_known: bool,
}

impl Change for Record {
    type State = ();
    type Outcome = ();
    type Error = Failure;

    async fn load(&self, _transaction: &DatabaseTransaction) -> Result<(), Failure> {
        if self.territory == "hang" && self.hang {
            futures::future::pending::<()>().await;
        }
        Ok(())
    }

    fn decide(&self, (): (), _now: time::OffsetDateTime) -> Result<Decided<()>, Failure> {
        match self.territory.as_str() {
            "nowhere" if !self.nowhere_known => Err(Failure::UnknownCase),
            "flaky" if self.first_try => Err(Failure::Transient("first try fails".into())),
            _ => Ok(Decided::quietly(())),
        }
    }

    async fn save(&self, transaction: &DatabaseTransaction, (): &()) -> Result<(), Failure> {
        transaction
            .execute_unprepared(&format!(
                "INSERT INTO applied (event_id, case_id) VALUES ('{}', '{}')",
                self.event_id, self.case_id
            ))
            .await?;
        Ok(())
    }
}

struct Harness {
    _nats: NatsServer,
    _database: Option<TestDatabase>,
    db: DatabaseConnection,
    jetstream: jetstream::Context,
    shutdown: CancellationToken,
}

impl Harness {
    async fn start() -> Self {
        Self::start_with(Recorder::default()).await.0
    }

    /// The harness, and the consumer's task, running `handler`.
    async fn start_with(handler: Recorder) -> (Self, tokio::task::JoinHandle<()>) {
        let database = TestDatabase::postgres().await.expect("database");
        let url = database.url().to_owned();
        Self::start_on(&url, Some(database), handler).await
    }

    /// As [`Harness::start_with`], on the database at `url`.
    async fn start_on(
        url: &str,
        database: Option<TestDatabase>,
        handler: Recorder,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let nats = NatsServer::start().await.expect("nats-server");
        let db = xinfang_platform::database::connect(url, 4)
            .await
            .expect("connect");
        Migrator::up(&db, None).await.expect("migrate");
        db.execute_unprepared(
            "CREATE TABLE applied (position SERIAL, event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL)",
        )
            .await
            .expect("table");
        let config = nats.config();
        let client = xinfang_platform::jetstream::connect(&config, "test")
            .await
            .expect("connect");
        let jetstream = jetstream::new(client);
        xinfang_platform::jetstream::ensure_stream(&jetstream, subjects::INTAKE_STREAM, &config)
            .await
            .expect("stream");
        let shutdown = CancellationToken::new();
        let harness = Self {
            _nats: nats,
            _database: database,
            db,
            jetstream,
            shutdown,
        };
        let consuming = harness.consume(handler);
        (harness, consuming)
    }

    /// Starts the durable consumer `recorder` with `handler`; it stops with the harness.
    fn consume(&self, handler: Recorder) -> tokio::task::JoinHandle<()> {
        let consumer = Consumer {
            db: self.db.clone(),
            jetstream: self.jetstream.clone(),
            spec: ConsumerSpec {
                name: "recorder".into(),
                stream: subjects::INTAKE_STREAM,
                filter_subjects: vec![subjects::INTAKE_STREAM.subjects.into()],
                max_deliver: 3,
                retry_delay: Duration::from_millis(50),
            },
            handler,
            outbox: None,
            batching: ConsumerConfig {
                batch_size: 100,
                // Long enough that everything published at once lands in one batch.
                linger: Duration::from_millis(300),
            },
            clock: Clock::system(),
            consuming: Default::default(),
        };
        let config = self._nats.config();
        let stop = self.shutdown.clone();
        tokio::spawn(async move { consumer.run(&config, stop).await.expect("consumer runs") })
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

fn registered(territory: &str) -> (Envelope, Vec<u8>) {
    registered_for(Uuid::now_v7(), territory)
}

fn registered_for(case_id: Uuid, territory: &str) -> (Envelope, Vec<u8>) {
    let event = PetitionRegistered {
        territory_code: territory.into(),
        ..Default::default()
    };
    let outgoing = OutgoingEvent::new(
        subjects::PETITION_REGISTERED,
        "intake",
        case_id,
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
        reasons[2].starts_with("undecodable xinfang.intake.v1.PetitionRegistered"),
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

impl Harness {
    /// The event ids applied, in the order they were applied.
    async fn applied_order(&self) -> Vec<Uuid> {
        let rows = self
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                "SELECT event_id FROM applied ORDER BY position",
            ))
            .await
            .expect("applied rows");
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("", "event_id").expect("event_id");
                Uuid::parse_str(&id).expect("a uuid")
            })
            .collect()
    }
}

#[tokio::test]
async fn a_batch_with_one_poison_message_applies_every_other_message_once() {
    let harness = Harness::start().await;
    let mut valid = Vec::new();
    for i in 0..20 {
        if i == 7 {
            let (envelope, _) = registered("dongcheng");
            harness
                .publish(Some(envelope.to_headers()), vec![0xff, 0xff])
                .await;
        }
        let (envelope, payload) = registered("xijiao");
        valid.push(envelope.event_id);
        harness.publish(Some(envelope.to_headers()), payload).await;
    }
    // One that fails inside the batch's transaction, as well as one that fails to decode.
    let (orphan, payload) = registered("nowhere");
    harness.publish(Some(orphan.to_headers()), payload).await;

    harness.wait_until_applied(20).await;
    let reasons = harness.dead_letter_reasons(2).await;
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].starts_with("undecodable"), "{}", reasons[0]);
    assert_eq!(reasons[1], "unknown case");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(harness.applied_order().await, valid);
}

#[tokio::test]
async fn a_failed_event_is_not_overtaken_by_later_events_of_its_case() {
    let harness = Harness::start().await;
    let case = Uuid::now_v7();
    let other = Uuid::now_v7();
    let mut published = Vec::new();
    for (case_id, territory) in [
        (other, "xijiao"),
        (case, "flaky"),
        (other, "xijiao"),
        (case, "xijiao"),
        (case, "xijiao"),
    ] {
        let (envelope, payload) = registered_for(case_id, territory);
        published.push((case_id, envelope.event_id));
        harness.publish(Some(envelope.to_headers()), payload).await;
    }

    harness.wait_until_applied(5).await;
    let order = harness.applied_order().await;
    let of = |wanted: Uuid| -> Vec<Uuid> {
        let ids: Vec<Uuid> = published
            .iter()
            .filter(|(case_id, _)| *case_id == wanted)
            .map(|(_, id)| *id)
            .collect();
        order
            .iter()
            .copied()
            .filter(|id| ids.contains(id))
            .collect()
    };
    let in_stream_order = |wanted: Uuid| -> Vec<Uuid> {
        published
            .iter()
            .filter(|(case_id, _)| *case_id == wanted)
            .map(|(_, id)| *id)
            .collect()
    };
    assert_eq!(of(case), in_stream_order(case));
    assert_eq!(of(other), in_stream_order(other));
    // The unrelated case was not held up: it was applied before the retried one.
    assert_eq!(order[..2], in_stream_order(other)[..]);
}

#[tokio::test]
async fn a_batch_cut_off_before_its_commit_is_applied_once_after_restart() {
    // The first consumer takes the batch and hangs inside its transaction on the last
    // event, after applying the others: then it is cut off, as by SIGKILL.
    let (harness, hanging) = Harness::start_with(Recorder {
        hang: true,
        ..Recorder::default()
    })
    .await;
    let mut published = Vec::new();
    for territory in ["xijiao", "dongcheng", "xijiao", "hang"] {
        let (envelope, payload) = registered(territory);
        published.push(envelope.event_id);
        harness.publish(Some(envelope.to_headers()), payload).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        harness.applied().await,
        0,
        "nothing is visible before the commit"
    );
    hanging.abort();
    let _ = hanging.await;

    // A new process: everything comes back after the ack wait and is applied once.
    harness.consume(Recorder::default());
    harness.wait_until_applied(4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(harness.applied_order().await, published);
}

#[tokio::test]
async fn a_database_outage_pauses_the_consumer_and_dead_letters_nothing() {
    // A server of the test's own: this test stops it.
    let postgres = xinfang_testkit::PrivatePostgres::start()
        .await
        .expect("a private PostgreSQL");
    let (harness, _consuming) = Harness::start_on(&postgres.url(), None, Recorder::default()).await;
    let (first, payload) = registered("xijiao");
    harness.publish(Some(first.to_headers()), payload).await;
    harness.wait_until_applied(1).await;

    postgres.stop().await.expect("stop PostgreSQL");
    // Events keep coming while the database is away: with three deliveries allowed and
    // retries 50 ms apart, counting the outage against them would set every one aside.
    let mut during = Vec::new();
    for _ in 0..30 {
        let (envelope, payload) = registered("dongcheng");
        during.push(envelope.event_id);
        harness.publish(Some(envelope.to_headers()), payload).await;
    }
    tokio::time::sleep(Duration::from_secs(12)).await;
    postgres.resume().await.expect("start PostgreSQL again");

    harness.wait_until_applied(31).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(harness.applied().await, 31);
    assert_eq!(harness.dead_letter_reasons(0).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_dead_letter_replayed_after_the_fix_is_applied_exactly_once() {
    use xinfang_platform::consumer::dead_letters::{self, Selection};
    let recorder = Recorder::default();
    let (harness, _consuming) = Harness::start_with(recorder.clone()).await;
    let (orphan, payload) = registered("nowhere");
    harness.publish(Some(orphan.to_headers()), payload).await;
    assert_eq!(harness.dead_letter_reasons(1).await, ["unknown case"]);
    assert_eq!(harness.applied().await, 0);

    let mine = Selection {
        consumer: Some("recorder".into()),
        ..Selection::default()
    };
    let listed = dead_letters::list(&harness.jetstream, &mine)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].reason, "unknown case");
    assert_eq!(listed[0].original_subject, subjects::PETITION_REGISTERED);
    assert_eq!(
        listed[0].envelope.as_ref().map(|e| e.event_id),
        Some(orphan.event_id)
    );
    let others = Selection {
        consumer: Some("someone-else".into()),
        ..Selection::default()
    };
    assert!(
        dead_letters::list(&harness.jetstream, &others)
            .await
            .expect("list")
            .is_empty()
    );

    // What was missing is there now: replay it, twice, as a nervous operator would.
    recorder
        .nowhere_known
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let by_sequence = Selection {
        sequence: Some(listed[0].sequence),
        ..Selection::default()
    };
    assert_eq!(
        dead_letters::replay(&harness.jetstream, &by_sequence)
            .await
            .expect("replay"),
        1
    );
    harness.wait_until_applied(1).await;
    assert_eq!(
        dead_letters::replay(&harness.jetstream, &mine)
            .await
            .expect("replay"),
        1
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(harness.applied_order().await, [orphan.event_id]);
}

#[tokio::test]
async fn an_event_held_back_behind_a_failing_one_is_never_left_unaccounted() {
    let harness = Harness::start().await;
    let case = Uuid::now_v7();
    let (orphan, payload) = registered_for(case, "nowhere");
    harness.publish(Some(orphan.to_headers()), payload).await;
    let (behind, payload) = registered_for(case, "xijiao");
    harness.publish(Some(behind.to_headers()), payload).await;
    // The first can never be applied; the second waits behind it and must end applied or
    // set aside by the consumer with the reason — not Nak'd on its last delivery and left
    // to the server's advisory, which a restart loses.
    let reason = eventually(PATIENCE, || async {
        if harness.applied_order().await.contains(&behind.event_id) {
            return Some(None);
        }
        dead_letters_of(&harness)
            .await
            .into_iter()
            .find(|(id, _)| *id == Some(behind.event_id))
            .map(|(_, reason)| Some(reason))
    })
    .await;
    if let Some(reason) = reason {
        assert!(
            reason.starts_with("held back behind an earlier event"),
            "{reason}"
        );
    }
}

async fn dead_letters_of(harness: &Harness) -> Vec<(Option<Uuid>, String)> {
    use xinfang_platform::consumer::dead_letters::{self, Selection};
    dead_letters::list(&harness.jetstream, &Selection::default())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|letter| (letter.envelope.map(|e| e.event_id), letter.reason))
        .collect()
}
