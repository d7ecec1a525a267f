//! `xinfang dev`: what a local stack needs to be set up — NATS users for each service (and an
//! operator for this CLI), and development tokens for each role.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use xinfang_platform::auth::Role;
use xinfang_platform::auth::token::{Claims, expiry_in, mint_hs256};
use xinfang_platform::department_feeds::{self, Department};
use xinfang_platform::nats_auth::{self, NatsUser};
use xinfang_platform::sealing::KeyRing;

use crate::departments::DepartmentSource;
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
    /// the server's configuration) and one `<user>.password` file per user; with a directory,
    /// a `dept-<unit>` user per unit that reads only its own case events.
    NatsUsers {
        /// The folder to write into (created if missing).
        #[arg(long)]
        dir: PathBuf,
        /// Also write `secrets.yaml`: the same users as Kubernetes Secrets in this namespace
        /// (see deploy/kubernetes/README.md).
        #[arg(long)]
        kubernetes_namespace: Option<String>,
        /// Departments to give a user that reads only their own feed (`dept-<unit>`).
        #[command(flatten)]
        departments: DepartmentSource,
        /// An external system that submits petitions over NATS, as `system=channel`
        /// (channel: online, letter, visit, phone, leader-mailbox, upstream); repeat for each.
        #[arg(long = "submitter", value_parser = nats_auth::parse_submitter)]
        submitters: Vec<(String, String)>,
    },
    /// Create intake's key file for personal data at rest, or rotate it: a new key version
    /// becomes current, the old ones stay to open what they sealed, and intake re-seals
    /// every row in the background (restart intake to take the new key).
    IdentityKeys {
        /// The key file (XINFANG_INTAKE_IDENTITY_KEYS_FILE).
        #[arg(long, env = "XINFANG_INTAKE_IDENTITY_KEYS_FILE")]
        file: PathBuf,
        /// Add a key version and make it current, instead of creating the file.
        #[arg(long)]
        rotate: bool,
    },
}

/// The user's password kept in `dir`, or a new one: regenerating after a directory change
/// adds the new users without changing anyone's password.
fn password_in(dir: &std::path::Path, user: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{user}.password")))
        .ok()
        .map(|kept| kept.trim().to_owned())
        .filter(|kept| !kept.is_empty())
        .unwrap_or_else(new_password)
}

/// 244 random bits from the operating system (two random UUIDs).
fn new_password() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

pub async fn run(command: DevCommand) -> anyhow::Result<()> {
    match command {
        DevCommand::IdentityKeys {
            file,
            rotate: false,
        } => {
            KeyRing::create_file(&file)?;
            println!("created {} (key version 1)", file.display());
            Ok(())
        }
        DevCommand::IdentityKeys { file, rotate: true } => {
            let version = KeyRing::rotate_file(&file)?;
            println!("{}: key version {version} is now current", file.display());
            Ok(())
        }
        DevCommand::NatsUsers {
            dir,
            kubernetes_namespace,
            departments,
            submitters,
        } => {
            let departments = departments.departments().await?;
            nats_users(
                &dir,
                kubernetes_namespace.as_deref(),
                &departments,
                &submitters,
            )
        }
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
                aud: audience.into(),
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

fn nats_users(
    dir: &std::path::Path,
    namespace: Option<&str>,
    departments: &[Department],
    submitters: &[(String, String)],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let mut users: Vec<NatsUser> = subjects::SERVICES
        .iter()
        .map(|binding| NatsUser {
            name: binding.service.to_owned(),
            password: password_in(dir, binding.service),
            permissions: Some(nats_auth::permissions(binding)),
        })
        .collect();
    users.push(NatsUser {
        name: "operator".to_owned(),
        password: password_in(dir, "operator"),
        permissions: None,
    });
    users.extend(departments.iter().map(|department| {
        let name = department_feeds::user_name(&department.unit);
        department_feeds::user(department, password_in(dir, &name))
    }));
    for (system, channel) in submitters {
        let user = nats_auth::submitter(system, channel, password_in(dir, system))
            .map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            !users.iter().any(|known| known.name == user.name),
            "system {system}: the name is taken by another NATS user"
        );
        users.push(user);
    }
    for user in &users {
        let path = dir.join(format!("{}.password", user.name));
        std::fs::write(&path, &user.password)
            .with_context(|| format!("write {}", path.display()))?;
    }
    let path = dir.join("authorization.conf");
    std::fs::write(&path, nats_auth::authorization_block(&users))
        .with_context(|| format!("write {}", path.display()))?;
    if let Some(namespace) = namespace {
        let path = dir.join("secrets.yaml");
        std::fs::write(&path, kubernetes_secrets(namespace, &users))
            .with_context(|| format!("write {}", path.display()))?;
    }
    println!("wrote {} users to {}", users.len(), dir.display());
    Ok(())
}

/// The users as Kubernetes Secrets: the server's `authorization.conf`, and one Secret per
/// service with the `XINFANG_NATS_USER` and `XINFANG_NATS_PASSWORD` it reads.
fn kubernetes_secrets(namespace: &str, users: &[NatsUser]) -> String {
    let indent = |text: &str| {
        text.lines()
            .map(|line| format!("    {line}\n"))
            .collect::<String>()
    };
    let mut yaml = format!(
        "# Generated by `xinfang dev nats-users --kubernetes-namespace {namespace}`. Holds passwords:\n\
         # apply it, do not commit it.\n\
         apiVersion: v1\nkind: Secret\nmetadata:\n  name: xinfang-nats-authorization\n  namespace: {namespace}\n\
         type: Opaque\nstringData:\n  authorization.conf: |\n{}",
        indent(&nats_auth::authorization_block(users))
    );
    for user in users {
        yaml.push_str(&format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: xinfang-nats-{name}\n  namespace: {namespace}\n\
             type: Opaque\nstringData:\n  XINFANG_NATS_USER: \"{name}\"\n  XINFANG_NATS_PASSWORD: \"{password}\"\n",
            name = user.name,
            password = user.password
        ));
    }
    yaml
}
