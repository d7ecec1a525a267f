//! `xinfang redrive`: publishes a time range of a service's outbox again, with the original
//! event ids, after a broker lost acknowledged events (see README, "The fsync trade").
//! Safe to repeat: the broker's duplicate window and the consumers' inboxes absorb what
//! was already delivered.

use anyhow::Context;
use clap::Args;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Args)]
pub struct Redrive {
    /// The service whose outbox to read (intake, routing, supervision, statistics).
    #[arg(long)]
    service: String,
    /// That service's database.
    #[arg(long, env = "XINFANG_DATABASE_URL")]
    database_url: String,
    #[arg(
        long,
        env = "XINFANG_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats_url: String,
    #[command(flatten)]
    login: NatsLogin,
    /// Start of the range (RFC 3339), inclusive: when the events happened.
    #[arg(long)]
    from: String,
    /// End of the range (RFC 3339), exclusive; now when left out.
    #[arg(long)]
    to: Option<String>,
}

/// The operator's NATS user, on a server that checks users (`make run` prints it).
#[derive(Args)]
pub struct NatsLogin {
    #[arg(long = "nats-user", env = "XINFANG_NATS_USER")]
    user: Option<String>,
    #[arg(
        long = "nats-password",
        env = "XINFANG_NATS_PASSWORD",
        hide_env_values = true
    )]
    password: Option<String>,
}

impl NatsLogin {
    pub async fn connect(&self, url: &str) -> anyhow::Result<async_nats::Client> {
        let options = match (&self.user, &self.password) {
            (Some(user), Some(password)) => {
                async_nats::ConnectOptions::with_user_and_password(user.clone(), password.clone())
            }
            _ => async_nats::ConnectOptions::new(),
        };
        options
            .connect(url)
            .await
            .with_context(|| format!("connect to NATS at {url}"))
    }
}

pub fn parse_time(flag: &str, text: &str) -> anyhow::Result<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).with_context(|| {
        format!("--{flag} {text:?} is not an RFC 3339 time such as 2026-11-25T08:00:00+08:00")
    })
}

pub async fn run(args: Redrive) -> anyhow::Result<()> {
    let from = parse_time("from", &args.from)?;
    let to = match &args.to {
        Some(text) => parse_time("to", text)?,
        None => OffsetDateTime::now_utc(),
    };
    let db = xinfang_platform::database::connect(&args.database_url, 2)
        .await
        .with_context(|| format!("connect to {}", args.database_url))?;
    let client = args.login.connect(&args.nats_url).await?;
    let jetstream = async_nats::jetstream::new(client);
    let published =
        xinfang_platform::outbox::redrive::redrive(&db, &jetstream, &args.service, from, to)
            .await?;
    println!(
        "published {published} event(s) of {} that occurred in [{from}, {to}) again",
        args.service
    );
    Ok(())
}
