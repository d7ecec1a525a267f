//! `xinfang statistics`: statistics' own upkeep.

use clap::Subcommand;
use xinfang_statistics::rebuild::{RebuildArgs, rebuild};

#[derive(Subcommand)]
pub enum StatisticsCommand {
    /// Replay every stream statistics reads, from the start, into an empty database, with
    /// statistics' NATS user and consumers of its own. Its figures equal the live service's.
    Rebuild(RebuildArgs),
}

pub async fn run(command: StatisticsCommand) -> anyhow::Result<()> {
    match command {
        StatisticsCommand::Rebuild(args) => {
            let rebuilt = rebuild(&args).await?;
            println!(
                "rebuilt {} cases from {} facts in {:.1} s",
                rebuilt.cases,
                rebuilt.facts,
                rebuilt.elapsed.as_secs_f64()
            );
            Ok(())
        }
    }
}
