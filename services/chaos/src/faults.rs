//! The faults, each injected into a running stack while the load runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use sea_orm::ConnectionTrait;
use xinfang_proto::subjects;
use xinfang_testkit::{PrivatePostgres, Stack, Svc};

/// How hard to push: `make test`'s light run, or `make chaos`'s full one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intensity {
    Light,
    Full,
}

impl Intensity {
    pub fn pick(self, light: Duration, full: Duration) -> Duration {
        match self {
            Intensity::Light => light,
            Intensity::Full => full,
        }
    }
}

/// SIGKILLs services picked by `seed` at random moments, starting each again after a
/// random pause.
pub async fn kill_at_random(stack: &mut Stack, seed: u64, kills: usize) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    for _ in 0..kills {
        let svc = Svc::ALL[rng.random_range(0..Svc::ALL.len())];
        tokio::time::sleep(Duration::from_millis(rng.random_range(200..2000))).await;
        stack.kill(svc).await?;
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..1000))).await;
        stack.restart(svc).await?;
    }
    Ok(())
}

/// SIGTERM to each service in turn (the drain), started again after.
pub async fn terminate_each(stack: &mut Stack) -> anyhow::Result<()> {
    for svc in Svc::ALL {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (took, status) = stack.terminate(svc).await?;
        if !status.success() {
            bail!("{} exited with {status} after SIGTERM", svc.name());
        }
        println!("  {} drained in {:.1} s", svc.name(), took.as_secs_f64());
        stack.restart(svc).await?;
    }
    Ok(())
}

/// The broker SIGKILLed and started again after `down`.
pub async fn broker_down(stack: &mut Stack, down: Duration) -> anyhow::Result<()> {
    stack.nats.kill().await?;
    tokio::time::sleep(down).await;
    stack.nats.restart().await
}

/// The database server stopped at once for `down`, then started again.
pub async fn database_down(postgres: &PrivatePostgres, down: Duration) -> anyhow::Result<()> {
    postgres.stop().await?;
    tokio::time::sleep(down).await;
    postgres.resume().await
}

/// Every connection to the services' databases terminated every 200 ms for `during`.
pub async fn terminate_connections(
    postgres: &PrivatePostgres,
    during: Duration,
) -> anyhow::Result<u64> {
    let admin = sea_orm::Database::connect(postgres.url())
        .await
        .context("connect as the administrator")?;
    let until = tokio::time::Instant::now() + during;
    let mut terminated = 0;
    while tokio::time::Instant::now() < until {
        let result = admin
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE pid <> pg_backend_pid() AND datname LIKE 'xinfang_test_%'",
            )
            .await
            .context("terminate connections")?;
        terminated += result.rows_affected();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    admin.close().await.ok();
    Ok(terminated)
}

/// A file system of its own for the broker's store, to fill.
pub struct SmallDisk {
    mount: PathBuf,
}

impl SmallDisk {
    /// A 256 MiB tmpfs; needs root (mount).
    pub async fn mount() -> anyhow::Result<Self> {
        let mount = std::env::temp_dir().join(format!("xinfang-chaos-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&mount).context("create the mount point")?;
        run(
            &["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs"],
            &mount,
        )
        .await?;
        Ok(Self { mount })
    }

    /// Whether this process may mount one (it runs as root).
    pub fn can_mount() -> bool {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    }

    pub fn path(&self) -> &Path {
        &self.mount
    }

    fn filler(&self) -> PathBuf {
        self.mount.join("filler")
    }

    /// Writes until the file system refuses: the broker can store nothing more.
    pub fn fill(&self) -> anyhow::Result<()> {
        use std::io::Write;
        let mut file = std::fs::File::create(self.filler()).context("create the filler")?;
        let block = vec![0u8; 1 << 20];
        loop {
            match file.write_all(&block) {
                Ok(()) => {}
                Err(error) if error.raw_os_error() == Some(28) => return Ok(()),
                Err(error) => return Err(error).context("fill the disk"),
            }
        }
    }

    pub fn free(&self) -> anyhow::Result<()> {
        std::fs::remove_file(self.filler()).context("remove the filler")
    }

    pub async fn unmount(self) -> anyhow::Result<()> {
        run(&["umount", "-l"], &self.mount).await?;
        std::fs::remove_dir(&self.mount).ok();
        Ok(())
    }
}

async fn run(command: &[&str], path: &Path) -> anyhow::Result<()> {
    let (program, args) = command.split_first().context("a command")?;
    let output = tokio::process::Command::new(program)
        .args(args)
        .arg(path)
        .output()
        .await
        .with_context(|| format!("run {program}"))?;
    if !output.status.success() {
        bail!(
            "{} {} failed: {}",
            command.join(" "),
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Where poison is injected: one subject each consumer reads, and the event type read there.
const POISONED: [(&str, &str); 3] = [
    (
        subjects::PETITION_REGISTERED,
        "xinfang.intake.v1.PetitionRegistered",
    ),
    (
        "xinfang.v1.routing.unit.zhaocun.petition.routed",
        "xinfang.routing.v1.PetitionRouted",
    ),
    (
        "xinfang.v1.supervision.unit.zhaocun.timeline.opened",
        "xinfang.supervision.v1.TimelineOpened",
    ),
];

/// How many consumers read each of [`POISONED`]: each sets its copy aside.
const READERS: [u64; 3] = [3, 3, 1];

/// Publishes, as the operator, poison on every stream — bytes that are no CloudEvent, and a
/// CloudEvent whose payload does not decode — and duplicates of stored events under new
/// broker ids (so the broker keeps them, and only the consumers' inboxes can tell). Returns
/// how many dead letters the poison must produce.
pub async fn poison_and_duplicates(stack: &Stack, duplicates: usize) -> anyhow::Result<u64> {
    let jetstream = async_nats::jetstream::new(stack.nats.client().await?);
    // Duplicates first: only of real events, never of the poison below.
    for stream in [
        subjects::INTAKE_STREAM,
        subjects::ROUTING_STREAM,
        subjects::SUPERVISION_STREAM,
    ] {
        let handle = jetstream.get_stream(stream.name).await?;
        for sequence in 1..=duplicates as u64 {
            let Ok(stored) = handle.get_raw_message(sequence).await else {
                break;
            };
            let mut copy = stored.headers.clone();
            copy.insert(
                async_nats::header::NATS_MESSAGE_ID,
                format!("chaos-duplicate-{}-{sequence}", stream.name).as_str(),
            );
            jetstream
                .publish_with_headers(stored.subject.clone(), copy, stored.payload.clone())
                .await?
                .await
                .context("store a duplicate")?;
        }
    }
    let mut expected = 0;
    for ((subject, event_type), readers) in POISONED.iter().zip(READERS) {
        jetstream
            .publish(*subject, "not a cloud event".into())
            .await?
            .await
            .context("store poison")?;
        jetstream
            .publish_with_headers(
                *subject,
                xinfang_testkit::stray_event_headers(event_type),
                vec![0xff, 0xff, 0xff].into(),
            )
            .await?
            .await
            .context("store poison")?;
        expected += 2 * readers;
    }
    Ok(expected)
}
