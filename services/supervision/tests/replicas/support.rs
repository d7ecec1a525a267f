//! Replicas of supervision in-process on one PostgreSQL database and a real nats-server,
//! reading a time the test moves.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use prost::Message;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;
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
use xinfang_testkit::{NatsServer, TestDatabase, stored_messages};

/// The time every replica reads, moved by the test.
#[derive(Clone)]
pub struct TestTime(pub Arc<Mutex<OffsetDateTime>>);

impl TestTime {
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().expect("time") = at;
    }

    pub fn clock(&self) -> Clock {
        let now = self.0.clone();
        Clock::from_fn(move || *now.lock().expect("time"))
    }
}

pub struct Bureau {
    pub nats: NatsServer,
    pub database: TestDatabase,
    pub db: DatabaseConnection,
    pub secret: tempfile::TempDir,
    pub time: TestTime,
}

pub struct Replica {
    pub running: RunningService,
    pub shutdown: CancellationToken,
}

impl Replica {
    pub fn client(&self) -> SupervisionServiceClient<Authed> {
        let token = auth::token(&[Role::Supervisor, Role::UnitHandler], &["zhaocun"]);
        SupervisionServiceClient::new(auth::authed(
            &format!("http://{}", self.running.grpc_address),
            &token,
        ))
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.running
            .task
            .await
            .expect("the replica's task")
            .expect("the replica stops cleanly");
    }
}

impl Bureau {
    pub async fn new(start: OffsetDateTime) -> Self {
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

    pub async fn replica(&self) -> Replica {
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
    pub async fn accepted_case(&self, replica: &Replica, number: &str) -> (Uuid, time::Date) {
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
                revision: 1,
                assignment_deadline: None,
                diverted: false,
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
    pub async fn handling_alarms(&self, case: Uuid) -> Vec<(String, String)> {
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

    pub async fn letters(&self) -> Vec<String> {
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
    pub async fn handling_alarm_events(&self, expected_at_least: usize) -> Vec<i32> {
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
pub const HANDLING_SEQ: i32 = 3;

pub fn at_nine(day: time::Date) -> OffsetDateTime {
    day.with_time(time::macros::time!(09:00))
        .assume_offset(time::macros::offset!(+8))
}

pub async fn settle() {
    // Many ticks of both replicas: time for a duplicate to show if there were one.
    tokio::time::sleep(Duration::from_millis(800)).await;
}
