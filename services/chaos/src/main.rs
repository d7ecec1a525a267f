//! `xinfang-chaos`: runs the fault suite and prints its table. `make chaos` runs it in full.

use std::process::ExitCode;

use clap::Parser;
use xinfang_chaos::{Intensity, Scenario, print_table, run};

#[derive(Parser)]
#[command(about = "Faults under load; every accepted petition accounted for in every service")]
struct Args {
    /// The seeds of the random-kill scenarios (each rerunnable with the same seed).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    seeds: Vec<u64>,
    /// Short faults and little load, as `make test` runs them.
    #[arg(long)]
    light: bool,
    /// Only the scenarios whose name contains this (e.g. "PostgreSQL", "seed 2").
    #[arg(long)]
    only: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let intensity = if args.light {
        Intensity::Light
    } else {
        Intensity::Full
    };
    let mut outcomes = Vec::new();
    for scenario in Scenario::all(&args.seeds) {
        if args
            .only
            .as_ref()
            .is_some_and(|only| !scenario.name().contains(only.as_str()))
        {
            continue;
        }
        println!("== {}", scenario.name());
        match run(scenario, intensity).await {
            Ok(outcome) => outcomes.push(outcome),
            Err(error) => {
                eprintln!("{}: could not run: {error:#}", scenario.name());
                print_table(&outcomes);
                return ExitCode::FAILURE;
            }
        }
    }
    print_table(&outcomes);
    if outcomes.iter().all(xinfang_chaos::Outcome::passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
