//! A nats-server child process with JetStream, on a free port, with its own store folder.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tempfile::TempDir;
use tokio::process::{Child, Command};

pub struct NatsServer {
    port: u16,
    store: TempDir,
    sync_interval: String,
    /// An `authorization { ... }` block, when the server checks users.
    authorization: Option<String>,
    /// The user the test itself connects as (allowed everything), with its password.
    operator: Option<(String, String)>,
    /// The store's encryption key, as production's comes from a secret: queued submissions
    /// hold personal data, and the store must not show it (kept across restarts).
    store_key: String,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server with `sync_interval: always`: every acknowledged message is on disk,
    /// as in `make run`.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with_sync_interval("always").await
    }

    /// Starts a server with the given JetStream `sync_interval` (`always`, `1s`, ...): the
    /// benchmark measures the fsync trade with it.
    pub async fn start_with_sync_interval(sync_interval: &str) -> anyhow::Result<Self> {
        Self::start_configured(sync_interval, None, None).await
    }

    /// Starts a server that admits only the users of `authorization` (a server
    /// configuration block); the test connects as `operator` (user, password).
    pub async fn start_configured(
        sync_interval: &str,
        authorization: Option<String>,
        operator: Option<(String, String)>,
    ) -> anyhow::Result<Self> {
        Self::start_in(None, sync_interval, authorization, operator).await
    }

    /// As [`Self::start_configured`], with the store in a folder under `parent` (the fault
    /// suite puts it on a small file system of its own, to fill it).
    pub async fn start_in(
        parent: Option<&Path>,
        sync_interval: &str,
        authorization: Option<String>,
        operator: Option<(String, String)>,
    ) -> anyhow::Result<Self> {
        let store = match parent {
            Some(parent) => tempfile::tempdir_in(parent),
            None => tempfile::tempdir(),
        }
        .context("create a JetStream store folder")?;
        let port = free_port()?;
        let mut server = Self {
            port,
            store,
            sync_interval: sync_interval.to_owned(),
            authorization,
            operator,
            // Starting with a letter: nats-server parses a variable's value again, and one
            // like `12e3…` would read as a number with a size suffix and fail the config.
            store_key: format!("k{}", uuid::Uuid::new_v4().simple()),
            child: None,
        };
        // Another test may take the port between `free_port` and the bind: then the server
        // exits at once, and starts again on a fresh port.
        for _ in 0..3 {
            match server.spawn().await {
                Ok(()) => return Ok(server),
                Err(_) if server.exited() => server.port = free_port()?,
                Err(error) => return Err(error),
            }
        }
        server.spawn().await?;
        Ok(server)
    }

    /// Whether the server process has exited (a port taken, a bad configuration).
    fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(Some(_))))
    }

    /// What the server logged, for a test that fails to say why.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.store.path().join("nats-server.log")).unwrap_or_default()
    }

    /// The folder the server keeps its streams in.
    pub fn store(&self) -> &Path {
        self.store.path()
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The platform's NATS settings for this server: one replica, a two-minute duplicate
    /// window, no user (an open server).
    pub fn config(&self) -> xinfang_platform::config::NatsConfig {
        xinfang_platform::config::NatsConfig {
            url: self.url(),
            stream_replicas: 1,
            duplicate_window: Duration::from_secs(120),
            user: None,
            password: None,
        }
    }

    /// A client connected as the test's operator user (or anonymously on an open server).
    pub async fn client(&self) -> anyhow::Result<async_nats::Client> {
        let options = match &self.operator {
            Some((user, password)) => {
                async_nats::ConnectOptions::with_user_and_password(user.clone(), password.clone())
            }
            None => async_nats::ConnectOptions::new(),
        };
        options
            .connect(self.url())
            .await
            .with_context(|| format!("connect to {}", self.url()))
    }

    /// SIGKILL, as a crash or a power cut would stop it.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await.context("kill nats-server")?;
        }
        Ok(())
    }

    /// Starts it again on the same port with the same store.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill().await?;
        self.spawn().await
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let config = self.store.path().join("nats.conf");
        let mut text = configuration(
            self.port,
            &self.store.path().join("jetstream"),
            &self.sync_interval,
        );
        if let Some(authorization) = &self.authorization {
            text.push_str(authorization);
        }
        std::fs::write(&config, text).context("write nats.conf")?;
        let binary = binary()?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.store.path().join("nats-server.log"))
            .context("open the server's log")?;
        let child = Command::new(&binary)
            .arg("--config")
            .arg(&config)
            .env("XINFANG_JETSTREAM_KEY", &self.store_key)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        self.child = Some(child);
        self.wait_until_ready().await
    }

    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            // Never mistake a stranger on our port for our server.
            if self.exited() {
                bail!("nats-server on port {} exited", self.port);
            }
            if let Ok(client) = self.client().await {
                let jetstream = async_nats::jetstream::new(client);
                if jetstream.query_account().await.is_ok() {
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "nats-server on port {} did not become ready with JetStream",
                    self.port
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn configuration(port: u16, store: &Path, sync_interval: &str) -> String {
    format!(
        "listen: 127.0.0.1:{port}\n\
         jetstream {{\n  store_dir: \"{}\"\n  sync_interval: {sync_interval}\n  \
         cipher: aes\n  key: $XINFANG_JETSTREAM_KEY\n}}\n",
        store.display()
    )
}

fn binary() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("XINFANG_NATS_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let tool_folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/nats-server");
    if tool_folder.exists() {
        return Ok(tool_folder);
    }
    bail!(
        "no nats-server: run the tests with `make test`, which installs one into .tools/, \
         or set XINFANG_NATS_SERVER to a nats-server 2.10 or newer"
    )
}

/// A port nobody listens on right now. Another process could take it before the server
/// binds; the readiness wait then fails loudly rather than talking to a stranger.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(listener.local_addr()?.port())
}
