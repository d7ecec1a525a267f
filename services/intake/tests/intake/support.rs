//! Starts intake in-process on port 0 against a test's own nats-server and database, and
//! gives the test typed calls and a view of what was stored and published.

use std::time::Duration;

use async_nats::jetstream;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use tokio_util::sync::CancellationToken;
use xinfang_intake::Config;
use xinfang_intake::store::petition;
use xinfang_platform::auth::{Role, audit};
use xinfang_platform::config::{
    AuthConfig, ConsumerConfig, OutboxConfig, PlatformConfig, TlsConfig,
};
use xinfang_platform::outbox::entity as outbox;
use xinfang_proto::intake::v1::{
    CreatePetitionRequest, intake_service_client::IntakeServiceClient,
};
use xinfang_proto::subjects;
use xinfang_proto::v1 as proto;
use xinfang_testkit::auth::{self, Authed};
pub use xinfang_testkit::eventually;
use xinfang_testkit::{NatsServer, TestDatabase, stored_messages};

/// Intake's settings for a test: port 0, quick sweeps and re-sealing, the keys created.
pub fn config(
    database_url: &str,
    nats: xinfang_platform::config::NatsConfig,
    secret_file: std::path::PathBuf,
    identity_keys: std::path::PathBuf,
) -> Config {
    Config {
        database_url: database_url.to_owned(),
        grpc_listen: "127.0.0.1:0".parse().expect("address"),
        region_code: "610481".parse().expect("region"),
        collective_threshold: 5,
        identity_keys_file: identity_keys,
        identity_keys_create: true,
        reseal_interval: Duration::from_millis(200),
        repeat_window: Duration::from_secs(365 * 86_400),
        repeat_similarity: 0.5,
        collective_window: Duration::from_secs(30 * 86_400),
        collective_similarity: 0.8,
        submission_concurrency: 4,
        platform: PlatformConfig {
            nats,
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
    }
}

pub struct IntakeUnderTest {
    pub nats: NatsServer,
    /// A registrar's client (who may also read every case, as a bureau supervisor).
    pub client: IntakeServiceClient<Authed>,
    pub grpc_url: String,
    /// Intake's key file for personal data.
    pub identity_keys: std::path::PathBuf,
    _secret: tempfile::TempDir,
    /// The test's own connection, for reading what intake stored.
    pub db: DatabaseConnection,
    _database: TestDatabase,
    shutdown: CancellationToken,
}

impl IntakeUnderTest {
    pub async fn on_postgres() -> Self {
        Self::start(
            TestDatabase::postgres().await.expect("test database"),
            TlsConfig::default(),
        )
        .await
    }

    /// On a database of the caller's (on a private cluster a test restarts, say).
    pub async fn on(database: TestDatabase) -> Self {
        Self::start(database, TlsConfig::default()).await
    }

    pub async fn on_sqlite() -> Self {
        Self::start(
            TestDatabase::sqlite().expect("test database"),
            TlsConfig::default(),
        )
        .await
    }

    /// Serving gRPC over TLS (mutual TLS when `tls` names a client CA); `grpc_url` is then
    /// `https://`, and `client` (plain) is of no use.
    pub async fn with_tls(tls: TlsConfig) -> Self {
        Self::start(TestDatabase::sqlite().expect("test database"), tls).await
    }

    async fn start(database: TestDatabase, tls: TlsConfig) -> Self {
        let nats = NatsServer::start().await.expect("nats-server");
        let secret = tempfile::tempdir().expect("a folder for the token secret");
        let secret_file = auth::write_secret(secret.path()).expect("write the secret");
        let identity_keys = secret.path().join("identity.keys");
        let mut config = config(
            database.url(),
            nats.config(),
            secret_file,
            identity_keys.clone(),
        );
        config.platform.tls = tls.clone();
        let shutdown = CancellationToken::new();
        let running = xinfang_intake::start(config, shutdown.clone())
            .await
            .expect("intake starts");
        let scheme = if tls.cert_file.is_some() {
            "https"
        } else {
            "http"
        };
        let grpc_url = format!("{scheme}://{}", running.grpc_address);
        let client = IntakeServiceClient::new(auth::authed(
            &grpc_url,
            &auth::token(&[Role::Registrar, Role::Supervisor], &[]),
        ));
        let db = xinfang_platform::database::connect(database.url(), 2)
            .await
            .expect("test connection");
        Self {
            nats,
            client,
            grpc_url,
            identity_keys,
            _secret: secret,
            db,
            _database: database,
            shutdown,
        }
    }

    pub async fn petitions_stored(&self) -> u64 {
        petition::Entity::find()
            .count(&self.db)
            .await
            .expect("count petitions")
    }

    pub async fn audit_entries(&self) -> Vec<audit::entry::Model> {
        audit::entry::Entity::find()
            .all(&self.db)
            .await
            .expect("read the audit table")
    }

    pub async fn outbox_rows(&self) -> Vec<outbox::Model> {
        outbox::Entity::find()
            .all(&self.db)
            .await
            .expect("read outbox")
    }

    /// Every message in intake's stream, once `expected` are there.
    pub async fn published(&self, expected: usize) -> Vec<jetstream::Message> {
        let client = async_nats::connect(self.nats.url())
            .await
            .expect("connect to NATS");
        stored_messages(
            &jetstream::new(client),
            subjects::INTAKE_STREAM.name,
            expected,
        )
        .await
    }
}

impl Drop for IntakeUnderTest {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub const NAME: &str = "张三";
pub const ID_CARD: &str = "610481199001011233";
pub const PHONE: &str = "13812345678";
pub const ADDRESS: &str = "兴平市东城街道幸福路1号";

/// A valid visit by one named person, received a minute ago.
pub fn visit(title: &str) -> proto::Petition {
    let received = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    proto::Petition {
        channel: proto::Channel::Visit as i32,
        source: Some(proto::PetitionSource {
            level: proto::SourceLevel::Local as i32,
            ..Default::default()
        }),
        received_at: Some(prost_types::Timestamp {
            seconds: received.unix_timestamp(),
            nanos: 0,
        }),
        petitioner: Some(proto::PetitionerIdentity {
            kind: proto::PetitionerKind::Person as i32,
            name: NAME.into(),
            id_card_number: ID_CARD.into(),
            phone: PHONE.into(),
            address: ADDRESS.into(),
        }),
        people_count: 1,
        territory_code: "dongcheng".into(),
        matter_category: "land-acquisition".into(),
        title: title.into(),
        content: "征地补偿款至今未发放，请求依法发放。".into(),
        ..Default::default()
    }
}

pub fn create(petition: proto::Petition) -> CreatePetitionRequest {
    CreatePetitionRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        petition: Some(petition),
        registering_unit: String::new(),
    }
}

/// A valid ID card number (GB 11643 check character) for the `n`th made-up person.
pub fn id_number(n: u32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let body = format!("61048119800101{n:03}");
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// A visit by the `person`th made-up petitioner (their own ID number and phone).
pub fn by(person: u32, content: &str) -> proto::Petition {
    let mut petition = visit("反映问题");
    petition.content = content.into();
    if let Some(who) = petition.petitioner.as_mut() {
        who.id_card_number = id_number(person);
        who.phone = format!("1390000{person:04}");
    }
    petition
}
