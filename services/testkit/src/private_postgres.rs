//! A PostgreSQL cluster of the test's own, for a test that stops the database server: it
//! must never stop the one the other tests share. About four seconds to create.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, bail};
use tempfile::TempDir;
use tokio::process::Command;

use crate::nats::free_port;

const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct PrivatePostgres {
    folder: TempDir,
    port: u16,
    /// Whether the test runs as root, which initdb refuses: then postgres runs it.
    root: bool,
}

impl PrivatePostgres {
    /// Creates a cluster in a temporary folder and starts it on a free port.
    pub async fn start() -> anyhow::Result<Self> {
        let folder = tempfile::tempdir().context("a folder for the cluster")?;
        let root = std::fs::metadata(folder.path())
            .context("read the folder's owner")?
            .uid()
            == 0;
        let mut cluster = Self {
            port: free_port()?,
            folder,
            root,
        };
        if root {
            // initdb refuses to run as root: the cluster belongs to postgres.
            owner(&[
                "chown",
                "-R",
                "postgres",
                &cluster.folder.path().display().to_string(),
            ])
            .await?;
        }
        cluster
            .as_owner(&[
                &format!("{BIN}/initdb"),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-D",
                &cluster.data().display().to_string(),
            ])
            .await
            .context("initdb")?;
        // Another test may take the port before the server binds it: try a fresh one.
        for _ in 0..3 {
            if cluster.resume().await.is_ok() {
                return Ok(cluster);
            }
            cluster.port = free_port()?;
        }
        cluster.resume().await?;
        Ok(cluster)
    }

    /// The URL of its `postgres` database.
    /// The folder holding the cluster's files (its data directory and WAL are under it).
    pub fn folder(&self) -> &std::path::Path {
        self.folder.path()
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once (open connections are cut), as an outage would.
    pub async fn stop(&self) -> anyhow::Result<()> {
        self.as_owner(&[
            &format!("{BIN}/pg_ctl"),
            "-D",
            &self.data().display().to_string(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ])
        .await
        .context("pg_ctl stop")
    }

    /// Starts the server again on the same port and data.
    pub async fn resume(&self) -> anyhow::Result<()> {
        let data = self.data().display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.folder.path().display()
        );
        self.as_owner(&[
            &format!("{BIN}/pg_ctl"),
            "-D",
            &data,
            "-l",
            &format!("{}/server.log", self.folder.path().display()),
            "-w",
            "-o",
            &options,
            "start",
        ])
        .await
        .context("pg_ctl start")
    }

    fn data(&self) -> PathBuf {
        self.folder.path().join("data")
    }

    async fn as_owner(&self, command: &[&str]) -> anyhow::Result<()> {
        if self.root {
            let mut with_user = vec!["runuser", "-u", "postgres", "--"];
            with_user.extend_from_slice(command);
            owner(&with_user).await
        } else {
            owner(command).await
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let stop = format!("{BIN}/pg_ctl");
        let mut command = if self.root {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--", &stop]);
            command
        } else {
            std::process::Command::new(&stop)
        };
        let _ = command
            .args(["-D", &data, "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

async fn owner(command: &[&str]) -> anyhow::Result<()> {
    let (program, args) = command.split_first().context("a command")?;
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("run {program}"))?;
    if !output.status.success() {
        bail!(
            "{} failed: {}",
            command.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
