//! `xinfang audit verify`: walks a service's audit hash chain and names the first row that
//! was changed or removed since it was sealed.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use xinfang_platform::auth::seal::{self, Verification};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check a service's audit chain: every row as it was sealed, none removed.
    Verify {
        /// The service whose audit table to check (intake, routing, supervision, statistics).
        #[arg(long)]
        service: String,
        /// That service's database.
        #[arg(long, env = "XINFANG_DATABASE_URL")]
        database_url: String,
    },
}

pub async fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify {
        service,
        database_url,
    } = command;
    let db = xinfang_platform::database::connect(&database_url, 1)
        .await
        .with_context(|| format!("connect to {service}'s database"))?;
    let found = seal::verify(&db)
        .await
        .with_context(|| format!("read {service}'s audit chain"))?;
    db.close().await.ok();
    Ok(match found {
        Verification::Intact { sealed, unsealed } => {
            println!(
                "{service}: audit chain intact: {sealed} row(s) sealed, {unsealed} awaiting their seal"
            );
            ExitCode::SUCCESS
        }
        Verification::Broken { seq, entry_id, why } => {
            println!("{service}: audit chain BROKEN at audit row {entry_id} (seal {seq}): {why}");
            ExitCode::FAILURE
        }
    })
}
