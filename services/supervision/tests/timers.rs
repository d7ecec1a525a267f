//! Durable timers and letters with two replicas of supervision on one PostgreSQL database
//! and a real nats-server, the time moved by the test: each alarm fires exactly once, with
//! its letter; after a restart none is missed; letter numbers stay gap-free when replicas
//! issue at once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use prost::Message;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use xinfang_platform::auth::Role;
use xinfang_platform::config::{
    AuthConfig, ConsumerConfig, OutboxConfig, PlatformConfig, TlsConfig,
};
use xinfang_platform::service::RunningService;
use xinfang_platform::write::Clock;
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{
    self as api, DeadlineAlerted, RecordCaseActionRequest, record_case_action_request::Action,
    supervision_service_client::SupervisionServiceClient,
};
use xinfang_proto::v1::DeadlineKind;
use xinfang_supervision::Config;
use xinfang_supervision::calendar::HolidayCalendar;
use xinfang_supervision::config::{LetterConfig, TimerConfig};
use xinfang_supervision::store::{deadline_alert, letter};
use xinfang_supervision::timeline::{self, Disposition, LegalTrack, Routing, UnitKind};
use xinfang_testkit::auth::{self, Authed};
use xinfang_testkit::{NatsServer, TestDatabase, eventually, stored_messages};

/// The time every replica reads, moved by the test.
#[derive(Clone)]
struct TestTime(Arc<Mutex<OffsetDateTime>>);

impl TestTime {
    fn set(&self, at: OffsetDateTime) {
        *self.0.lock().expect("time") = at;
    }

    fn clock(&self) -> Clock {
        let now = self.0.clone();
        Clock::from_fn(move || *now.lock().expect("time"))
    }
}

struct Bureau {
    nats: NatsServer,
    database: TestDatabase,
    db: DatabaseConnection,
    secret: tempfile::TempDir,
    time: TestTime,
}

struct Replica {
    running: RunningService,
    shutdown: CancellationToken,
}

impl Replica {
    fn client(&self) -> SupervisionServiceClient<Authed> {
        let token = auth::token(&[Role::Supervisor, Role::UnitHandler], &["zhaocun"]);
        SupervisionServiceClient::new(auth::authed(
            &format!("http://{}", self.running.grpc_address),
            &token,
        ))
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.running
            .task
            .await
            .expect("the replica's task")
            .expect("the replica stops cleanly");
    }
}

impl Bureau {
    async fn new(start: OffsetDateTime) -> Self {
        let nats = NatsServer::start().await.expect("nats-server");
        let database = TestDatabase::postgres().await.expect("test database");
        let db = xinfang_platform::database::connect(database.url(), 2)
            .await
            .expect("test connection");
        Self {
            nats,
            database,
            db,
            secret: tempfile::tempdir().expect("a folder for the token secret"),
            time: TestTime(Arc::new(Mutex::new(start))),
        }
    }

    async fn replica(&self) -> Replica {
        let secret_file = auth::write_secret(self.secret.path()).expect("write the secret");
        let config = Config {
            database_url: self.database.url().to_owned(),
            grpc_listen: "127.0.0.1:0".parse().expect("address"),
            bureau_code: "xfj".into(),
            timers: TimerConfig {
                timer_interval: Duration::from_millis(100),
                warn_before_days: 3,
                supervise_after_days: 5,
            },
            letters: LetterConfig {
                letter_number_pattern: "兴信{kind}〔{year}〕{serial}号".into(),
                reminder_reply_days: 5,
                warning_reply_days: 5,
                supervision_reply_days: 10,
                assignment_days: 30,
            },
            platform: PlatformConfig {
                nats: self.nats.config(),
                outbox: OutboxConfig {
                    sweep_interval: Duration::from_millis(200),
                    batch_size: 256,
                    retention: Duration::from_secs(86_400),
                },
                auth: AuthConfig {
                    hs256_secret_file: Some(secret_file),
                    issuer: auth::ISSUER.into(),
                    audience: auth::AUDIENCE.into(),
                    ..AuthConfig::default()
                },
                consumer: ConsumerConfig::default(),
                tls: TlsConfig::default(),
                shutdown_grace: Duration::from_secs(10),
                database_max_connections: 8,
                migrate: true,
                migrate_only: false,
                metrics_listen: None,
                log_json: false,
            },
        };
        let shutdown = CancellationToken::new();
        let running =
            xinfang_supervision::start_with_clock(config, shutdown.clone(), self.time.clock())
                .await
                .expect("supervision starts");
        Replica { running, shutdown }
    }

    /// A case routed to 赵村镇, signed for and accepted today: its handling clock runs.
    /// Returns the case id and the handling clock's due day.
    async fn accepted_case(&self, replica: &Replica, number: &str) -> (Uuid, time::Date) {
        let calendar = HolidayCalendar::official().expect("calendar");
        let now = *self.time.0.lock().expect("time");
        let id = Uuid::now_v7();
        let mut case = timeline::new_case(id, number, now, false, now, &calendar);
        timeline::route(
            &mut case,
            &Routing {
                case_number: number.into(),
                received_at: now,
                anonymous: false,
                unit_code: "zhaocun".into(),
                unit_path: "/zhaocun/".into(),
                unit_kind: Some(UnitKind::Town),
                disposition: Disposition::Forward,
                track: Some(LegalTrack::Appeal),
                routed_at: now,
                upstream_deadline: None,
            },
            &calendar,
        );
        case.save(&self.db).await.expect("case stored");
        let mut client = replica.client();
        for action in [
            Action::SignFor(api::SignFor::default()),
            Action::Accept(api::AcceptCase {
                notice: "已受理".into(),
            }),
        ] {
            client
                .record_case_action(RecordCaseActionRequest {
                    request_id: Uuid::now_v7().to_string(),
                    case_id: id.to_string(),
                    occurred_on: None,
                    action: Some(action),
                })
                .await
                .expect("recorded");
        }
        let timeline = client
            .get_case_timeline(api::GetCaseTimelineRequest {
                case_id: id.to_string(),
            })
            .await
            .expect("timeline")
            .into_inner();
        let handling = timeline
            .deadlines
            .iter()
            .find(|d| d.kind() == DeadlineKind::Handling)
            .and_then(|d| d.due.as_ref())
            .expect("a handling clock");
        let due = xinfang_platform::wire::from_calendar_date(handling).expect("a date");
        (id, due)
    }

    /// The alarms fired on the case's handling clock, by level.
    async fn handling_alarms(&self, case: Uuid) -> Vec<(String, String)> {
        deadline_alert::Entity::find()
            .filter(deadline_alert::Column::CaseId.eq(case))
            .order_by_asc(deadline_alert::Column::FiredAt)
            .all(&self.db)
            .await
            .expect("alerts")
            .into_iter()
            .filter(|alert| !alert.letter_number.is_empty() || alert.level == "approaching")
            .filter(|alert| alert.seq == HANDLING_SEQ)
            .map(|alert| (alert.level, alert.letter_number))
            .collect()
    }

    async fn letters(&self) -> Vec<String> {
        letter::Entity::find()
            .order_by_asc(letter::Column::IssuedAt)
            .all(&self.db)
            .await
            .expect("letters")
            .into_iter()
            .map(|letter| letter.number)
            .collect()
    }

    /// The alarm events published about the case's handling clock, by level.
    async fn handling_alarm_events(&self, expected_at_least: usize) -> Vec<i32> {
        let jetstream = jetstream::new(self.nats.client().await.expect("connect"));
        stored_messages(
            &jetstream,
            subjects::SUPERVISION_STREAM.name,
            expected_at_least,
        )
        .await
        .into_iter()
        .filter(|message| message.subject.contains(".deadline."))
        .filter_map(|message| DeadlineAlerted::decode(message.payload.clone()).ok())
        .filter(|alerted| {
            alerted.deadline.as_ref().map(|d| d.kind()) == Some(DeadlineKind::Handling)
        })
        .map(|alerted| alerted.level)
        .collect()
    }
}

/// The handling clock's place on the ledger: forward (0), notice (1), objection (2),
/// handling (3).
const HANDLING_SEQ: i32 = 3;

fn at_nine(day: time::Date) -> OffsetDateTime {
    day.with_time(time::macros::time!(09:00))
        .assume_offset(time::macros::offset!(+8))
}

async fn settle() {
    // Many ticks of both replicas: time for a duplicate to show if there were one.
    tokio::time::sleep(Duration::from_millis(800)).await;
}

#[tokio::test]
async fn each_alarm_fires_once_across_two_replicas_and_none_is_missed_after_a_restart() {
    let bureau = Bureau::new(datetime!(2026-03-02 09:00 +8)).await;
    let first = bureau.replica().await;
    let second = bureau.replica().await;
    let (case, due) = bureau.accepted_case(&first, "610481-2026-000001").await;
    let (later_case, later_due) = {
        bureau.time.set(datetime!(2026-04-01 09:00 +8));
        bureau.accepted_case(&second, "610481-2026-000002").await
    };

    // Three days before the due day: one reminder letter.
    bureau.time.set(at_nine(due - time::Duration::days(3)));
    eventually(Duration::from_secs(20), || async {
        (!bureau.handling_alarms(case).await.is_empty()).then_some(())
    })
    .await;
    settle().await;
    assert_eq!(
        bureau.handling_alarms(case).await,
        vec![("approaching".to_owned(), "兴信提〔2026〕1号".to_owned())]
    );

    // The day after: overdue, and a warning letter.
    bureau.time.set(at_nine(due + time::Duration::days(1)));
    eventually(Duration::from_secs(20), || async {
        (bureau.handling_alarms(case).await.len() == 2).then_some(())
    })
    .await;
    // Six days late: supervised (督办), with a supervision letter.
    bureau.time.set(at_nine(due + time::Duration::days(6)));
    eventually(Duration::from_secs(20), || async {
        (bureau.handling_alarms(case).await.len() == 3).then_some(())
    })
    .await;
    settle().await;
    assert_eq!(
        bureau.handling_alarms(case).await,
        vec![
            ("approaching".to_owned(), "兴信提〔2026〕1号".to_owned()),
            ("overdue".to_owned(), "兴信警〔2026〕1号".to_owned()),
            ("supervised".to_owned(), "兴信督〔2026〕1号".to_owned()),
        ]
    );

    // Both replicas down while the later case's deadline passes; one comes back.
    first.stop().await;
    second.stop().await;
    bureau
        .time
        .set(at_nine(later_due + time::Duration::days(2)));
    let back = bureau.replica().await;
    eventually(Duration::from_secs(20), || async {
        (!bureau.handling_alarms(later_case).await.is_empty()).then_some(())
    })
    .await;
    settle().await;
    // The reminder it slept through is recorded as passed, not sent after the due day.
    assert_eq!(
        bureau.handling_alarms(later_case).await,
        vec![
            ("approaching".to_owned(), String::new()),
            ("overdue".to_owned(), "兴信警〔2026〕2号".to_owned()),
        ]
    );
    let events = bureau.handling_alarm_events(4).await;
    use xinfang_proto::supervision::v1::AlertLevel;
    assert_eq!(
        events,
        vec![
            AlertLevel::Approaching as i32,
            AlertLevel::Overdue as i32,
            AlertLevel::Supervised as i32,
            AlertLevel::Overdue as i32,
        ]
    );
    back.stop().await;
}

#[tokio::test]
async fn letter_numbers_stay_gap_free_when_two_replicas_issue_at_once() {
    let bureau = Bureau::new(datetime!(2026-03-02 09:00 +8)).await;
    let first = bureau.replica().await;
    let second = bureau.replica().await;
    let (case, _) = bureau.accepted_case(&first, "610481-2026-000001").await;
    let mut calls = Vec::new();
    for index in 0..24 {
        let mut client = if index % 2 == 0 {
            first.client()
        } else {
            second.client()
        };
        calls.push(tokio::spawn(async move {
            client
                .issue_letter(api::IssueLetterRequest {
                    request_id: Uuid::now_v7().to_string(),
                    case_id: case.to_string(),
                    kind: api::LetterKind::Supervision.into(),
                    text: String::new(),
                    reply_days: 0,
                })
                .await
                .map(|letter| letter.into_inner().number)
        }));
    }
    let mut numbers = Vec::new();
    for call in calls {
        numbers.push(call.await.expect("joined").expect("issued"));
    }
    numbers.sort_by_key(|number| {
        number
            .trim_start_matches("兴信督〔2026〕")
            .trim_end_matches('号')
            .parse::<u32>()
            .expect("a serial")
    });
    let expected: Vec<String> = (1..=24).map(|n| format!("兴信督〔2026〕{n}号")).collect();
    assert_eq!(numbers, expected);
    let mut stored = bureau.letters().await;
    stored.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(stored, expected_sorted);
    first.stop().await;
    second.stop().await;
}
