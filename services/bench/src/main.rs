//! `xinfang-bench`: starts a stack of its own on PostgreSQL, submits petitions at a given
//! concurrency, and prints throughput fully processed (counted by statistics), latency
//! percentiles, the zero-loss check, and this machine's raw ceiling for the same work.

mod ceiling;
mod load;
mod surge;

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use xinfang_testkit::{Backend, Stack, Svc};

#[derive(Parser)]
#[command(name = "xinfang-bench", about = "Load-test the whole Xinfang stack")]
struct Args {
    /// Petitions to submit.
    #[arg(long, default_value_t = 2000)]
    petitions: usize,
    /// Clients submitting at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// JetStream's fsync policy for the run: `always`, or an interval such as `1s`.
    #[arg(long, default_value = "always")]
    sync_interval: String,
    /// The services' databases: `postgres` (what a city runs) or `sqlite` (`make run`).
    #[arg(long, default_value = "postgres", value_parser = ["postgres", "sqlite"])]
    backend: String,
    /// Submissions through the NATS surge channel, with one intake replica and then two
    /// (0: skip).
    #[arg(long, default_value_t = 2000)]
    surge_submissions: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let backend = match args.backend.as_str() {
        "sqlite" => Backend::Sqlite,
        _ => Backend::Postgres,
    };
    let stack = Stack::start_with_sync_interval(backend, &args.sync_interval)
        .await
        .context("start the stack (are the binaries built? make bench builds them)")?;
    println!(
        "xinfang-bench: {} petitions, {} clients, JetStream sync_interval {}, {}",
        args.petitions, args.concurrency, args.sync_interval, args.backend
    );
    let run = load::run(&stack, args.petitions, args.concurrency).await?;
    run.print();
    let loss = load::zero_loss(&stack, args.petitions as u64).await?;
    println!("zero-loss check: {loss}");

    let ceiling = ceiling::measure(&stack, args.petitions, args.concurrency).await?;
    ceiling.print();
    let per_second = run.processed_per_second();
    println!(
        "ratio: system {per_second:.0} petitions/s = {:.3} of raw committed inserts/s, {:.3} of raw acknowledged publishes/s",
        per_second / ceiling.inserts_per_second,
        per_second / ceiling.publishes_per_second
    );
    println!(
        "  (each petition costs 4 committed transactions and 3 acknowledged publishes, plus the inbox and outbox rows)"
    );

    // Two replicas on one SQLite file would measure nothing a city runs.
    if args.surge_submissions > 0 && backend == Backend::Postgres {
        let mut stack = stack;
        for replicas in [1, 2] {
            if replicas > 1 {
                stack.add_replica(Svc::Intake).await?;
            }
            let first_index = 1_000_000 * replicas;
            let surge = surge::run(&stack, replicas, args.surge_submissions, first_index).await?;
            surge.print();
            let per_second = surge.registrations_per_second();
            println!(
                "  ratio: {:.3} of raw committed inserts/s, {:.3} of raw acknowledged publishes/s (a registration: one transaction with the outbox row, one publish, one receipt)",
                per_second / ceiling.inserts_per_second,
                per_second / ceiling.publishes_per_second
            );
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}
