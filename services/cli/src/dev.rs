//! `xinfang dev`: what a local stack needs to be set up — NATS users for each service (and an
//! operator for this CLI), and development tokens for each role.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use xinfang_platform::auth::Role;
use xinfang_platform::auth::token::{Claims, expiry_in, mint_hs256};
use xinfang_platform::nats_auth::{self, NatsUser};
use xinfang_proto::subjects;

#[derive(Subcommand)]
pub enum DevCommand {
    /// Sign a development token (HS256) for a role: for `make run`, never for production,
    /// where the city's identity provider issues tokens.
    Token {
        /// The role(s): registrar, unit_handler, supervisor, leader, analyst, administrator.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The unit(s) a unit handler acts for (repeat for several).
        #[arg(long = "unit")]
        units: Vec<String>,
        /// Who the token names.
        #[arg(long)]
        subject: String,
        /// The HS256 secret the services verify with (XINFANG_AUTH_HS256_SECRET_FILE).
        #[arg(long, env = "XINFANG_AUTH_HS256_SECRET_FILE")]
        secret_file: PathBuf,
        #[arg(long, env = "XINFANG_AUTH_ISSUER", default_value = "xinfang-dev")]
        issuer: String,
        #[arg(long, env = "XINFANG_AUTH_AUDIENCE", default_value = "xinfang")]
        audience: String,
        /// How long the token is valid.
        #[arg(long, default_value = "12h", value_parser = xinfang_platform::config::parse_duration)]
        valid_for: std::time::Duration,
    },
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
    match command {
        DevCommand::NatsUsers { dir } => nats_users(&dir),
        DevCommand::Token {
            roles,
            units,
            subject,
            secret_file,
            issuer,
            audience,
            valid_for,
        } => {
            for role in &roles {
                role.parse::<Role>().map_err(anyhow::Error::msg)?;
            }
            let secret = std::fs::read(&secret_file)
                .with_context(|| format!("read {}", secret_file.display()))?;
            let claims = Claims {
                sub: subject,
                iss: issuer,
                aud: audience,
                exp: expiry_in(valid_for),
                roles,
                units,
            };
            println!(
                "{}",
                mint_hs256(&secret, &claims).context("sign the token")?
            );
            Ok(())
        }
    }
}

fn nats_users(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
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
