//! `xinfang dev`: what a local stack needs to be set up — NATS users for each service (and an
//! operator for this CLI), written where `make run` reads them.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use xinfang_platform::nats_auth::{self, NatsUser};
use xinfang_proto::subjects;

#[derive(Subcommand)]
pub enum DevCommand {
    /// Write NATS users with least-privilege permissions: `authorization.conf` (to include in
    /// the server's configuration) and one `<user>.password` file per user.
    NatsUsers {
        /// The folder to write into (created if missing).
        #[arg(long)]
        dir: PathBuf,
    },
}

fn new_password() -> String {
    // Two v4-style random UUIDs would do; v7 carries a timestamp, so mix two of them.
    format!(
        "{}{}",
        uuid::Uuid::now_v7().simple(),
        uuid::Uuid::now_v7().simple()
    )
}

pub fn run(command: DevCommand) -> anyhow::Result<()> {
    let DevCommand::NatsUsers { dir } = command;
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let mut users: Vec<NatsUser> = subjects::SERVICES
        .iter()
        .map(|binding| NatsUser {
            name: binding.service.to_owned(),
            password: new_password(),
            permissions: Some(nats_auth::permissions(binding)),
        })
        .collect();
    users.push(NatsUser {
        name: "operator".to_owned(),
        password: new_password(),
        permissions: None,
    });
    for user in &users {
        let path = dir.join(format!("{}.password", user.name));
        std::fs::write(&path, &user.password)
            .with_context(|| format!("write {}", path.display()))?;
    }
    let path = dir.join("authorization.conf");
    std::fs::write(&path, nats_auth::authorization_block(&users))
        .with_context(|| format!("write {}", path.display()))?;
    println!("wrote {} users to {}", users.len(), dir.display());
    Ok(())
}
