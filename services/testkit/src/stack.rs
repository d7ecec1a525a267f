//! The whole system as separate processes — the four service binaries, a nats-server and a
//! database per service — for end-to-end tests and the benchmark. Processes, not tasks, so a
//! test can SIGKILL one and start it again on the same port and database.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use xinfang_platform::nats_auth::{self, NatsUser};
use xinfang_proto::subjects;

use crate::nats::free_port;
use crate::{NatsServer, TestDatabase};

/// The four services, in the order a petition passes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Svc {
    Intake,
    Routing,
    Supervision,
    Statistics,
}

impl Svc {
    pub const ALL: [Svc; 4] = [Svc::Intake, Svc::Routing, Svc::Supervision, Svc::Statistics];

    pub fn name(self) -> &'static str {
        match self {
            Svc::Intake => "intake",
            Svc::Routing => "routing",
            Svc::Supervision => "supervision",
            Svc::Statistics => "statistics",
        }
    }

    /// The gRPC service health reports on.
    fn grpc_service(self) -> &'static str {
        match self {
            Svc::Intake => "xinfang.intake.v1.IntakeService",
            Svc::Routing => "xinfang.routing.v1.RoutingService",
            Svc::Supervision => "xinfang.supervision.v1.SupervisionService",
            Svc::Statistics => "xinfang.statistics.v1.StatisticsService",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// How to start a stack, for a test that needs more than the defaults.
#[derive(Debug, Clone)]
pub struct StackOptions {
    pub backend: Backend,
    /// JetStream's `sync_interval`.
    pub sync_interval: String,
    /// The PostgreSQL server the services' databases are created on (a private cluster a
    /// test may stop); by default `XINFANG_TEST_DATABASE_URL`'s.
    pub postgres: Option<String>,
    /// Where the broker's store folder is created; by default the system's temporary folder.
    pub nats_store_parent: Option<PathBuf>,
    /// Settings every service is started with, besides the stack's own.
    pub service_env: Vec<(String, String)>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            backend: Backend::Postgres,
            sync_interval: "always".to_owned(),
            postgres: None,
            nats_store_parent: None,
            service_env: Vec::new(),
        }
    }
}

struct Running {
    svc: Svc,
    /// Its NATS user's password (the user is the service's name).
    nats_password: String,
    port: u16,
    metrics_port: u16,
    database: TestDatabase,
    child: Option<Child>,
}

/// The external systems of a test stack (the surge channel): the online platform, and the
/// provincial bureau's system sending petitions down.
pub const SUBMITTERS: [(&str, &str); 2] = [
    ("online-platform", "online"),
    ("provincial-bureau", "upstream"),
];

pub struct Stack {
    pub nats: NatsServer,
    /// The NATS users of [`SUBMITTERS`].
    submitters: Vec<NatsUser>,
    /// Replicas started beside the first one of a service ([`Stack::add_replica`]).
    replicas: Vec<Child>,
    services: Vec<Running>,
    service_env: Vec<(String, String)>,
    logs: TempDir,
    /// The HS256 secret file every service verifies tokens with (see `crate::auth`).
    secret: PathBuf,
}

impl Stack {
    /// A nats-server with `sync_interval: always` and the four services, each on its own
    /// database and with its own least-privilege NATS user; returns once every service
    /// reports SERVING.
    pub async fn start(backend: Backend) -> anyhow::Result<Self> {
        Self::start_with_sync_interval(backend, "always").await
    }

    pub async fn start_with_sync_interval(
        backend: Backend,
        sync_interval: &str,
    ) -> anyhow::Result<Self> {
        Self::start_with(StackOptions {
            backend,
            sync_interval: sync_interval.to_owned(),
            ..StackOptions::default()
        })
        .await
    }

    pub async fn start_with(options: StackOptions) -> anyhow::Result<Self> {
        let password = || uuid::Uuid::new_v4().simple().to_string();
        let mut users: Vec<NatsUser> = subjects::SERVICES
            .iter()
            .map(|binding| NatsUser {
                name: binding.service.to_owned(),
                password: password(),
                permissions: Some(nats_auth::permissions(binding)),
            })
            .collect();
        let operator = ("operator".to_owned(), password());
        users.push(NatsUser {
            name: operator.0.clone(),
            password: operator.1.clone(),
            permissions: None,
        });
        let submitters: Vec<NatsUser> = SUBMITTERS
            .iter()
            .map(|(system, channel)| nats_auth::submitter(system, channel, password()))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?;
        users.extend(submitters.iter().cloned());
        let nats = NatsServer::start_in(
            options.nats_store_parent.as_deref(),
            &options.sync_interval,
            Some(nats_auth::authorization_block(&users)),
            Some(operator),
        )
        .await?;
        // As in production: the operator declares the streams; the services, which may not
        // change a stream, find them there.
        let operator = async_nats::jetstream::new(nats.client().await?);
        let mut declared = nats.config();
        declared.duplicate_window = duplicate_window(&options.service_env)?;
        xinfang_platform::jetstream::declare_streams(&operator, &declared)
            .await
            .context("declare the streams as the operator")?;
        let password_of = |svc: Svc| {
            users
                .iter()
                .find(|user| user.name == svc.name())
                .map(|user| user.password.clone())
                .unwrap_or_default()
        };
        let logs = tempfile::tempdir().context("create a log folder")?;
        let mut services = Vec::new();
        for svc in Svc::ALL {
            let database = match (options.backend, &options.postgres) {
                (Backend::Postgres, Some(server)) => TestDatabase::postgres_on(server).await?,
                (Backend::Postgres, None) => TestDatabase::postgres().await?,
                (Backend::Sqlite, _) => TestDatabase::sqlite()?,
            };
            services.push(Running {
                svc,
                nats_password: password_of(svc),
                port: free_port()?,
                metrics_port: free_port()?,
                database,
                child: None,
            });
        }
        let secret = crate::auth::write_secret(logs.path()).context("write the token secret")?;
        let mut stack = Self {
            nats,
            submitters,
            replicas: Vec::new(),
            services,
            service_env: options.service_env,
            logs,
            secret,
        };
        for svc in Svc::ALL {
            stack.spawn(svc)?;
        }
        for svc in Svc::ALL {
            stack.wait_until_serving(svc, true).await?;
        }
        Ok(stack)
    }

    /// The `xinfang` CLI, calling this stack's services with `token`.
    pub fn cli(&self, token: &str) -> anyhow::Result<Command> {
        let mut command = Command::new(built("xinfang")?);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("XINFANG_TOKEN", token)
            .env("XINFANG_INTAKE_URL", self.grpc_url(Svc::Intake))
            .env("XINFANG_ROUTING_URL", self.grpc_url(Svc::Routing))
            .env("XINFANG_SUPERVISION_URL", self.grpc_url(Svc::Supervision))
            .env("XINFANG_STATISTICS_URL", self.grpc_url(Svc::Statistics));
        Ok(command)
    }

    /// `xinfang statistics rebuild --into <database_url>`, run as statistics (its NATS user,
    /// the stack's token secret): replays the streams into that empty database.
    pub fn statistics_rebuild(&self, database_url: &str) -> anyhow::Result<Command> {
        let running = self.running(Svc::Statistics);
        let mut command = Command::new(built("xinfang")?);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("XINFANG_NATS_URL", self.nats.url())
            .env("XINFANG_NATS_USER", Svc::Statistics.name())
            .env("XINFANG_NATS_PASSWORD", &running.nats_password)
            .env("XINFANG_AUTH_HS256_SECRET_FILE", &self.secret)
            .args(["statistics", "rebuild", "--into", database_url]);
        Ok(command)
    }

    /// The NATS password of one of [`SUBMITTERS`] (for a client outside the test).
    pub fn submitter_password(&self, system: &str) -> Option<String> {
        self.submitters
            .iter()
            .find(|user| user.name == system)
            .map(|user| user.password.clone())
    }

    /// A client connected as one of [`SUBMITTERS`], with its own inbox prefix (the only
    /// one its user may read).
    pub async fn submitter(&self, system: &str) -> anyhow::Result<async_nats::Client> {
        let user = self
            .submitters
            .iter()
            .find(|user| user.name == system)
            .with_context(|| format!("no submitter {system} in the stack"))?;
        async_nats::ConnectOptions::with_user_and_password(user.name.clone(), user.password.clone())
            .custom_inbox_prefix(nats_auth::inbox_prefix(system))
            .connect(self.nats.url())
            .await
            .with_context(|| format!("connect as {system}"))
    }

    pub fn grpc_url(&self, svc: Svc) -> String {
        format!("http://127.0.0.1:{}", self.running(svc).port)
    }

    /// Where the service serves Prometheus metrics.
    pub fn metrics_address(&self, svc: Svc) -> String {
        format!("127.0.0.1:{}", self.running(svc).metrics_port)
    }

    pub fn database_url(&self, svc: Svc) -> &str {
        self.running(svc).database.url()
    }

    /// SIGKILL: no shutdown, no flush, as a crash or an OOM kill would stop it.
    pub async fn kill(&mut self, svc: Svc) -> anyhow::Result<()> {
        if let Some(mut child) = self.running_mut(svc).child.take() {
            child
                .kill()
                .await
                .with_context(|| format!("kill {}", svc.name()))?;
        }
        Ok(())
    }

    /// SIGTERM, as Kubernetes stops a pod: waits for the process to exit and says how long
    /// it took and how it ended.
    pub async fn terminate(
        &mut self,
        svc: Svc,
    ) -> anyhow::Result<(Duration, std::process::ExitStatus)> {
        let Some(mut child) = self.running_mut(svc).child.take() else {
            bail!("{} is not running", svc.name());
        };
        let pid = child.id().context("the process has an id")?;
        let asked = tokio::time::Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .context("send SIGTERM")?;
        if !sent.success() {
            bail!("kill -TERM {pid} failed: {sent}");
        }
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .with_context(|| format!("{} did not exit within 60 s of SIGTERM", svc.name()))?
            .context("wait for the process")?;
        Ok((asked.elapsed(), status))
    }

    /// Starts a killed service again on the same port and database, and waits for it.
    pub async fn restart(&mut self, svc: Svc) -> anyhow::Result<()> {
        self.kill(svc).await?;
        self.spawn(svc)?;
        self.wait_until_serving(svc, false).await
    }

    /// The last lines each service logged: printed when a test fails, to tell why.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for svc in Svc::ALL {
            let text = std::fs::read_to_string(self.log_path(svc)).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            let tail = &all[all.len().saturating_sub(lines)..];
            out.push_str(&format!("--- {} ---\n{}\n", svc.name(), tail.join("\n")));
        }
        out
    }

    fn running(&self, svc: Svc) -> &Running {
        self.services
            .iter()
            .find(|r| r.svc == svc)
            .expect("every service is in the stack")
    }

    fn running_mut(&mut self, svc: Svc) -> &mut Running {
        self.services
            .iter_mut()
            .find(|r| r.svc == svc)
            .expect("every service is in the stack")
    }

    fn log_path(&self, svc: Svc) -> PathBuf {
        self.logs.path().join(format!("{}.log", svc.name()))
    }

    fn spawn(&mut self, svc: Svc) -> anyhow::Result<()> {
        let running = self.running(svc);
        let (port, metrics_port) = (running.port, running.metrics_port);
        let mut command = self.command(svc, port, metrics_port, &self.log_path(svc))?;
        self.running_mut(svc).child = Some(
            command
                .spawn()
                .with_context(|| format!("start {}", svc.name()))?,
        );
        Ok(())
    }

    /// Starts one more replica of `svc` on the same database and NATS user (as Kubernetes
    /// scales a deployment), and waits until it serves. It stops with the stack.
    pub async fn add_replica(&mut self, svc: Svc) -> anyhow::Result<()> {
        let (port, metrics_port) = (free_port()?, free_port()?);
        let log = self.logs.path().join(format!(
            "{}-replica-{}.log",
            svc.name(),
            self.replicas.len() + 1
        ));
        let mut command = self.command(svc, port, metrics_port, &log)?;
        let mut child = command
            .spawn()
            .with_context(|| format!("start a replica of {}", svc.name()))?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(exit)) = child.try_wait() {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                bail!(
                    "a replica of {} exited with {exit}:
{text}",
                    svc.name()
                );
            }
            if serving(&url, svc).await {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                bail!("a replica of {} did not become ready", svc.name());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.replicas.push(child);
        Ok(())
    }

    fn command(
        &self,
        svc: Svc,
        port: u16,
        metrics_port: u16,
        log: &Path,
    ) -> anyhow::Result<Command> {
        let binary = binary(svc)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .context("open a service log")?;
        let nats_url = self.nats.url();
        let secret = self.secret.clone();
        // Each service's own identity for calling another (routing asks supervision).
        let service_token = self.logs.path().join(format!("{}.token", svc.name()));
        std::fs::write(
            &service_token,
            crate::auth::sign(&crate::auth::service_claims(svc.name())),
        )
        .context("write the service token")?;
        let supervision_url = self.grpc_url(Svc::Supervision);
        // Kept beside the logs, so a restarted intake opens what it sealed before.
        let identity_keys = self.logs.path().join("intake-identity.keys");
        let running = self.running(svc);
        let mut command = Command::new(&binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("XINFANG_DATABASE_URL", running.database.url())
            .env("XINFANG_GRPC_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "XINFANG_METRICS_LISTEN",
                format!("127.0.0.1:{metrics_port}"),
            )
            .env("XINFANG_NATS_URL", nats_url)
            .env("XINFANG_NATS_USER", svc.name())
            .env("XINFANG_NATS_PASSWORD", &running.nats_password)
            .env("XINFANG_OUTBOX_SWEEP_INTERVAL", "200ms")
            .env("XINFANG_ROUTING_DIRECTORY", demo_directory())
            .env("XINFANG_AUTH_HS256_SECRET_FILE", secret)
            .env("XINFANG_SERVICE_TOKEN_FILE", service_token)
            .env("XINFANG_SUPERVISION_URL", supervision_url)
            .env("XINFANG_INTAKE_IDENTITY_KEYS_FILE", identity_keys)
            .env("XINFANG_INTAKE_IDENTITY_KEYS_CREATE", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        // Settings a benchmark may vary pass through from the caller's environment.
        for setting in [
            "XINFANG_DATABASE_MAX_CONNECTIONS",
            "XINFANG_CONSUMER_BATCH_SIZE",
            "XINFANG_CONSUMER_LINGER",
            "XINFANG_NATS_DUPLICATE_WINDOW",
        ] {
            if let Some(value) = std::env::var_os(setting) {
                command.env(setting, value);
            }
        }
        command.envs(self.service_env.iter().cloned());
        Ok(command)
    }

    /// Waits for the service to report SERVING. At first start (`may_move`), a port another
    /// test took between `free_port` and the bind is given up for a fresh one; a restart
    /// keeps its port, which clients already hold.
    async fn wait_until_serving(&mut self, svc: Svc, may_move: bool) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut moves = 0;
        loop {
            if let Some(child) = self.running_mut(svc).child.as_mut()
                && let Ok(Some(exit)) = child.try_wait()
            {
                let log = std::fs::read_to_string(self.log_path(svc)).unwrap_or_default();
                let taken = log.matches("Address already in use").count();
                if may_move && taken > moves && moves < 3 {
                    moves = taken;
                    self.running_mut(svc).port = free_port()?;
                    self.running_mut(svc).metrics_port = free_port()?;
                    self.spawn(svc)?;
                    continue;
                }
                bail!("{} exited with {exit}:\n{}", svc.name(), self.log_tails(30));
            }
            if serving(&self.grpc_url(svc), svc).await {
                return Ok(());
            }

            if tokio::time::Instant::now() > deadline {
                bail!(
                    "{} did not become ready:\n{}",
                    svc.name(),
                    self.log_tails(30)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The built service binaries: next to the test binary's folder (`target/<profile>`), or
/// where `XINFANG_BIN_DIR` says.
/// Whether the service at `url` reports SERVING.
async fn serving(url: &str, svc: Svc) -> bool {
    let Ok(endpoint) = tonic::transport::Endpoint::from_shared(url.to_owned()) else {
        return false;
    };
    let Ok(channel) = endpoint.connect().await else {
        return false;
    };
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: svc.grpc_service().to_owned(),
        })
        .await
        .is_ok_and(|response| response.into_inner().status == ServingStatus::Serving as i32)
}

fn binary(svc: Svc) -> anyhow::Result<PathBuf> {
    built(&format!("xinfang-{}", svc.name()))
}

/// A binary of the workspace, beside the test's (or in `XINFANG_BIN_DIR`).
fn built(name: &str) -> anyhow::Result<PathBuf> {
    let folder = match std::env::var_os("XINFANG_BIN_DIR") {
        Some(folder) => PathBuf::from(folder),
        None => {
            let exe = std::env::current_exe().context("find the running binary")?;
            // target/<profile>/deps/<test> or target/<profile>/<binary>
            let parent = exe.parent().map(Path::to_path_buf).unwrap_or_default();
            if parent.ends_with("deps") {
                parent.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                parent
            }
        }
    };
    let path = folder.join(name);
    if !path.exists() {
        bail!(
            "{} is not built: run `cargo build --workspace --bins` first (make test does)",
            path.display()
        );
    }
    Ok(path)
}

fn demo_directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../routing/directory/xingping.toml")
}

/// The services' duplicate window: theirs by default (10 minutes), or what the caller set
/// (the fault suite shortens it, to outlast it).
fn duplicate_window(service_env: &[(String, String)]) -> anyhow::Result<Duration> {
    const SETTING: &str = "XINFANG_NATS_DUPLICATE_WINDOW";
    let set = service_env
        .iter()
        .rev()
        .find(|(name, _)| name == SETTING)
        .map(|(_, value)| value.clone())
        .or_else(|| std::env::var(SETTING).ok());
    match set {
        Some(text) => xinfang_platform::config::parse_duration(&text)
            .map_err(|e| anyhow::anyhow!("{SETTING}: {e}")),
        None => Ok(Duration::from_secs(600)),
    }
}
