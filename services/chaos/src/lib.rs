//! The fault suite (`make chaos`; a light run in `make test`): the four services,
//! nats-server and PostgreSQL as processes, clients submitting petitions with a ledger of
//! every one they were told was accepted, one fault per scenario, and then the check that
//! every service holds exactly the ledger — 0 lost, 0 doubled, 0 valid events stranded in
//! dead letters — and how long that took once the fault was over.

pub mod faults;
pub mod ledger;
pub mod load;
mod report;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use xinfang_testkit::{PrivatePostgres, Stack, StackOptions};

pub use faults::Intensity;
pub use ledger::{Holdings, Ledger};
pub use report::print_table;

/// One fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Services SIGKILLed at random moments; the seed picks which and when.
    Kill { seed: u64 },
    /// SIGTERM to each service in turn during load.
    Terminate,
    /// nats-server SIGKILLed and started again at once.
    BrokerRestart,
    /// nats-server down for longer than the duplicate window.
    BrokerBeyondDuplicateWindow,
    /// PostgreSQL stopped (3 minutes in the full run) and started again.
    DatabaseDown,
    /// Every database connection terminated every 200 ms.
    ConnectionsTerminated,
    /// The disk of the broker's store filled, so the broker refuses writes, then freed.
    BrokerDiskFull,
    /// Poison and duplicates injected on every stream.
    PoisonAndDuplicates,
}

impl Scenario {
    pub fn all(seeds: &[u64]) -> Vec<Scenario> {
        let mut all: Vec<Scenario> = seeds.iter().map(|&seed| Scenario::Kill { seed }).collect();
        all.extend([
            Scenario::Terminate,
            Scenario::BrokerRestart,
            Scenario::BrokerBeyondDuplicateWindow,
            Scenario::DatabaseDown,
            Scenario::ConnectionsTerminated,
            Scenario::BrokerDiskFull,
            Scenario::PoisonAndDuplicates,
        ]);
        all
    }

    pub fn name(&self) -> String {
        match self {
            Scenario::Kill { seed } => format!("SIGKILL at random (seed {seed})"),
            Scenario::Terminate => "SIGTERM during load".into(),
            Scenario::BrokerRestart => "nats-server killed, restarted".into(),
            Scenario::BrokerBeyondDuplicateWindow => "nats-server down > duplicate window".into(),
            Scenario::DatabaseDown => "PostgreSQL stopped, restarted".into(),
            Scenario::ConnectionsTerminated => "connections terminated every 200 ms".into(),
            Scenario::BrokerDiskFull => "NATS store disk full, freed".into(),
            Scenario::PoisonAndDuplicates => "poison and duplicates on every stream".into(),
        }
    }
}

/// What one scenario came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub scenario: String,
    pub holdings: Holdings,
    /// Dead letters the injected poison must produce; any other is a stranded event.
    pub expected_dead_letters: u64,
    /// From the end of the fault (and of the load) until every service held the ledger;
    /// `None` if they never did within the patience.
    pub drain: Option<Duration>,
    /// Petitions a client could not get accepted (refused, or no answer in 10 minutes).
    pub client_failures: u64,
    /// Petitions accepted once the fault was over: the system takes new work again.
    pub accepted_after: u64,
    /// What happened on the way, for the table's reader.
    pub note: String,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.drain.is_some()
            && self.accepted_after > 0
            && self.holdings.exact()
            && self.holdings.dead_letters == self.expected_dead_letters
            && self.client_failures == 0
    }
}

/// Runs one scenario on a stack of its own.
pub async fn run(scenario: Scenario, intensity: Intensity) -> anyhow::Result<Outcome> {
    let pick = |light: u64, full: u64| {
        intensity.pick(Duration::from_secs(light), Duration::from_secs(full))
    };
    let postgres = match scenario {
        Scenario::DatabaseDown | Scenario::ConnectionsTerminated => Some(
            PrivatePostgres::start()
                .await
                .context("a private PostgreSQL, to stop")?,
        ),
        _ => None,
    };
    let disk = match scenario {
        Scenario::BrokerDiskFull => Some(
            faults::SmallDisk::mount()
                .await
                .context("a small disk for the broker's store (needs root)")?,
        ),
        _ => None,
    };
    let window = pick(5, 30);
    let mut options = StackOptions {
        postgres: postgres.as_ref().map(PrivatePostgres::url),
        nats_store_parent: disk.as_ref().map(|d| d.path().to_path_buf()),
        ..StackOptions::default()
    };
    if scenario == Scenario::BrokerBeyondDuplicateWindow {
        options.service_env.push((
            "XINFANG_NATS_DUPLICATE_WINDOW".into(),
            format!("{}s", window.as_secs()),
        ));
    }
    let mut stack = Stack::start_with(options).await?;
    let ledger = Arc::new(Ledger::default());
    let (clients, pause) = match intensity {
        Intensity::Light => (4, Duration::from_millis(20)),
        Intensity::Full => (8, Duration::from_millis(10)),
    };
    let load = load::Load::start(&stack, ledger.clone(), clients, pause);
    wait_for_traffic(&ledger).await?;
    tokio::time::sleep(pick(1, 10)).await;

    let mut expected_dead_letters = 0;
    let note = match scenario {
        Scenario::Kill { seed } => {
            let kills = match intensity {
                Intensity::Light => 3,
                Intensity::Full => 12,
            };
            faults::kill_at_random(&mut stack, seed, kills).await?;
            format!("{kills} kills")
        }
        Scenario::Terminate => {
            faults::terminate_each(&mut stack).await?;
            "each service once".into()
        }
        Scenario::BrokerRestart => {
            faults::broker_down(&mut stack, Duration::from_secs(2)).await?;
            "down 2 s".into()
        }
        Scenario::BrokerBeyondDuplicateWindow => {
            let down = window * 2;
            faults::broker_down(&mut stack, down).await?;
            format!("down {} s, window {} s", down.as_secs(), window.as_secs())
        }
        Scenario::DatabaseDown => {
            let down = pick(10, 180);
            if let Some(postgres) = &postgres {
                faults::database_down(postgres, down).await?;
            }
            format!("down {} s", down.as_secs())
        }
        Scenario::ConnectionsTerminated => {
            let during = pick(10, 60);
            let mut terminated = 0;
            if let Some(postgres) = &postgres {
                terminated = faults::terminate_connections(postgres, during).await?;
            }
            anyhow::ensure!(
                terminated > 0,
                "no connection was terminated: the fault did not happen"
            );
            format!("{terminated} terminated in {} s", during.as_secs())
        }
        Scenario::BrokerDiskFull => {
            let full = pick(5, 30);
            if let Some(disk) = &disk {
                disk.fill()?;
                tokio::time::sleep(full).await;
                disk.free()?;
                // nats-server keeps a store's write error until it restarts, whatever
                // space is freed: the operator (or its liveness probe) restarts it.
                tokio::time::sleep(Duration::from_secs(2)).await;
                stack.nats.restart().await?;
            }
            format!("full {} s, then the broker restarted", full.as_secs())
        }
        Scenario::PoisonAndDuplicates => {
            expected_dead_letters = faults::poison_and_duplicates(&stack, 20).await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            format!("{expected_dead_letters} poison letters expected")
        }
    };
    // The system takes new work after the fault, too.
    let before = ledger.len();
    tokio::time::sleep(pick(2, 10)).await;
    let client_failures = load.stop().await;
    let accepted_after = ledger.len().saturating_sub(before) as u64;
    let drained = Instant::now();
    let patience = pick(180, 600);
    let mut holdings = ledger::holdings(&stack, &ledger).await?;
    let mut drain = None;
    while drained.elapsed() < patience {
        if holdings.exact() && holdings.dead_letters >= expected_dead_letters {
            drain = Some(drained.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        holdings = ledger::holdings(&stack, &ledger).await?;
    }
    if drain.is_none() {
        let broker = stack.nats.log();
        let broker: Vec<&str> = broker.lines().collect();
        eprintln!(
            "{} did not settle:\n{}\n--- nats-server ---\n{}",
            scenario.name(),
            stack.log_tails(15),
            broker[broker.len().saturating_sub(30)..].join("\n")
        );
    }
    drop(stack);
    if let Some(disk) = disk {
        disk.unmount().await?;
    }
    Ok(Outcome {
        scenario: scenario.name(),
        holdings,
        expected_dead_letters,
        drain,
        client_failures,
        accepted_after,
        note,
    })
}

async fn wait_for_traffic(ledger: &Ledger) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while ledger.len() < 20 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} petitions accepted in 30 s before the fault",
            ledger.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
