//! `xinfang`: the operator CLI. Reads its arguments and runs one command.

mod audit;
mod cases;
mod connect;
mod dead_letters;
mod departments;
mod dev;
mod events;
mod petitions;
mod redrive;
mod statistics;
mod streams;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "xinfang",
    about = "Operate a Xinfang stack: petitions and cases over gRPC, events from NATS, redrive",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a service's tamper-evident audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Submit, read and list petitions (intake's gRPC API).
    #[command(subcommand)]
    Petition(petitions::PetitionCommand),
    /// Follow a case through the services, read the figures and the directory.
    #[command(subcommand)]
    Case(cases::CaseCommand),
    /// Watch events as the services publish them.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Publish a time range of a service's outbox again, after the broker lost events.
    Redrive(redrive::Redrive),
    /// List what consumers set aside, and replay it once the reason is fixed.
    #[command(subcommand)]
    DeadLetters(dead_letters::DeadLetterCommand),
    /// Declare the JetStream streams, as the operator.
    #[command(subcommand)]
    Streams(streams::StreamCommand),
    /// Reports (the weekly brief, the half-year summary, the annual report) and statistics' upkeep.
    #[command(subcommand)]
    Statistics(Box<statistics::StatisticsCommand>),
    /// Set up a local stack: NATS users.
    #[command(subcommand)]
    Dev(dev::DevCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Audit(command) => audit::run(command).await,
        Command::Petition(command) => petitions::run(command).await.map(|()| ExitCode::SUCCESS),
        Command::Case(command) => cases::run(command).await.map(|()| ExitCode::SUCCESS),
        Command::Events(command) => events::run(command).await.map(|()| ExitCode::SUCCESS),
        Command::Redrive(args) => redrive::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::DeadLetters(command) => {
            dead_letters::run(command).await.map(|()| ExitCode::SUCCESS)
        }
        Command::Streams(command) => streams::run(command).await.map(|()| ExitCode::SUCCESS),
        Command::Dev(command) => dev::run(command).await.map(|()| ExitCode::SUCCESS),
        Command::Statistics(command) => statistics::run(*command).await.map(|()| ExitCode::SUCCESS),
    };
    match outcome {
        Ok(code) => code,
        // The message, not a backtrace: the reader is a clerk or an operator.
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
