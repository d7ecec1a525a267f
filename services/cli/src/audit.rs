//! `xinfang audit verify`: walks a service's audit hash chain and names the first row that
//! was changed or removed since it was sealed; prints the chain's head, to be kept apart
//! (a log, the daily report), and checks a head kept before.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use xinfang_platform::auth::seal::{self, Verification};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check a service's audit chain: every row as it was sealed, none removed. Exits 0
    /// when intact, 1 when broken, 2 when it could not be checked.
    Verify {
        /// The service whose audit table to check (intake, routing, supervision, statistics).
        #[arg(long)]
        service: String,
        /// That service's database.
        #[arg(long, env = "XINFANG_DATABASE_URL")]
        database_url: String,
        /// A head printed by an earlier check (`<hash>`): the chain must still hold it, or
        /// it was rebuilt since.
        #[arg(long)]
        expect_head: Option<String>,
    },
}

pub async fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    // Could not check is not the same answer as broken.
    Ok(check(command).await.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::from(2)
    }))
}

async fn check(command: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify {
        service,
        database_url,
        expect_head,
    } = command;
    if !xinfang_proto::subjects::SERVICES
        .iter()
        .any(|binding| binding.service == service)
    {
        bail!("{service:?} is not a service: intake, routing, supervision or statistics");
    }
    // Read-only: a mistyped path creates no empty database.
    let database_url = database_url.replace("mode=rwc", "mode=ro");
    let db = xinfang_platform::database::connect(&database_url, 1)
        .await
        .with_context(|| format!("connect to {service}'s database"))?;
    let found = seal::verify(&db)
        .await
        .with_context(|| format!("read {service}'s audit chain"))?;
    let kept = match &expect_head {
        Some(head) => seal::holds(&db, head)
            .await
            .with_context(|| format!("look for the head {head}"))?,
        None => true,
    };
    db.close().await.ok();
    Ok(match found {
        Verification::Intact { .. } if !kept => {
            println!(
                "{service}: audit chain BROKEN: it no longer holds the head {} checked before: it was rebuilt",
                expect_head.unwrap_or_default()
            );
            ExitCode::FAILURE
        }
        Verification::Intact {
            sealed,
            unsealed,
            head,
        } => {
            println!(
                "{service}: audit chain intact: {sealed} row(s) sealed, {unsealed} awaiting their seal; head {head}"
            );
            ExitCode::SUCCESS
        }
        Verification::Broken { seq, entry_id, why } => {
            println!("{service}: audit chain BROKEN at audit row {entry_id} (seal {seq}): {why}");
            ExitCode::FAILURE
        }
    })
}
