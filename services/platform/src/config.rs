//! Settings every service shares, read from flags and environment variables (clap).
//!
//! Each service flattens [`PlatformConfig`] into its own `Config`, next to the settings only
//! it has (its database URL and gRPC address, whose defaults differ per service).

use std::time::Duration;

use clap::{ArgAction, Args};

#[derive(Debug, Clone, Args)]
pub struct PlatformConfig {
    #[command(flatten)]
    pub nats: NatsConfig,
    #[command(flatten)]
    pub outbox: OutboxConfig,
    #[command(flatten)]
    pub consumer: ConsumerConfig,
    #[command(flatten)]
    pub auth: AuthConfig,
    #[command(flatten)]
    pub tls: TlsConfig,
    /// Largest pool of database connections (PostgreSQL; SQLite always uses one writer).
    #[arg(long, env = "XINFANG_DATABASE_MAX_CONNECTIONS", default_value_t = 8)]
    pub database_max_connections: u32,
    /// Apply the service's database migrations at start. Turn off where a Kubernetes Job
    /// runs them.
    #[arg(long, env = "XINFANG_MIGRATE", default_value_t = true, action = ArgAction::Set)]
    pub migrate: bool,
    /// Apply the migrations and exit, serving nothing: the Kubernetes migration Job.
    #[arg(long, env = "XINFANG_MIGRATE_ONLY", default_value_t = false, action = ArgAction::Set)]
    pub migrate_only: bool,
    /// Where to serve Prometheus metrics (`/metrics`); off when not set.
    #[arg(long, env = "XINFANG_METRICS_LISTEN")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// How long a stopping service (SIGTERM) may take to finish the work in hand: the batch
    /// being applied, calls in flight, the outbox flushed. Keep it below the pod's
    /// termination grace period (30 s by default in Kubernetes).
    #[arg(long, env = "XINFANG_SHUTDOWN_GRACE", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Log as JSON lines (for a log collector) instead of human-readable text.
    #[arg(long, env = "XINFANG_LOG_JSON", default_value_t = false, action = ArgAction::Set)]
    pub log_json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct NatsConfig {
    /// NATS server URL(s), comma-separated.
    #[arg(
        long = "nats-url",
        env = "XINFANG_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub url: String,
    /// The service's NATS user (see `nats_auth`); none on a server without authorization.
    #[arg(long = "nats-user", env = "XINFANG_NATS_USER")]
    pub user: Option<String>,
    /// The NATS user's password.
    #[arg(
        long = "nats-password",
        env = "XINFANG_NATS_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// JetStream replicas for the streams this service creates (3 on a clustered server).
    #[arg(
        long = "nats-stream-replicas",
        env = "XINFANG_NATS_STREAM_REPLICAS",
        default_value_t = 1
    )]
    pub stream_replicas: usize,
    /// How long the broker remembers event ids to drop duplicate publishes. Must exceed the
    /// outbox relay's longest gap before it publishes a row again.
    #[arg(long = "nats-duplicate-window", env = "XINFANG_NATS_DUPLICATE_WINDOW", default_value = "10m", value_parser = parse_duration)]
    pub duplicate_window: Duration,
}

/// Where the keys that verify callers' tokens come from: exactly one of a HS256 secret
/// file (local development), a PEM public key file, or a JWKS URL (a city's identity
/// provider).
#[derive(Debug, Clone, Default, Args)]
pub struct AuthConfig {
    /// A file holding the HS256 secret tokens are signed with (`make run` writes one).
    #[arg(
        long = "auth-hs256-secret-file",
        env = "XINFANG_AUTH_HS256_SECRET_FILE"
    )]
    pub hs256_secret_file: Option<std::path::PathBuf>,
    /// A PEM public key file (RS256, PS256, ES256 or EdDSA), e.g. from a Kubernetes secret.
    #[arg(long = "auth-public-key-file", env = "XINFANG_AUTH_PUBLIC_KEY_FILE")]
    pub public_key_file: Option<std::path::PathBuf>,
    /// The public key's algorithm: RS256, PS256, ES256 or EdDSA.
    #[arg(
        long = "auth-public-key-algorithm",
        env = "XINFANG_AUTH_PUBLIC_KEY_ALGORITHM",
        default_value = "RS256"
    )]
    pub public_key_algorithm: String,
    /// The identity provider's JWKS URL.
    #[arg(long = "auth-jwks-url", env = "XINFANG_AUTH_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// The `iss` tokens must carry.
    #[arg(
        long = "auth-issuer",
        env = "XINFANG_AUTH_ISSUER",
        default_value = "xinfang-dev"
    )]
    pub issuer: String,
    /// The `aud` tokens must carry.
    #[arg(
        long = "auth-audience",
        env = "XINFANG_AUTH_AUDIENCE",
        default_value = "xinfang"
    )]
    pub audience: String,
}

/// TLS for the gRPC server, and mutual TLS when a client CA is given: certificates from
/// files (in Kubernetes, a mounted secret). Off when no certificate is set.
#[derive(Debug, Clone, Default, Args)]
pub struct TlsConfig {
    /// The server's certificate chain (PEM).
    #[arg(
        long = "tls-cert-file",
        env = "XINFANG_TLS_CERT_FILE",
        requires = "key_file"
    )]
    pub cert_file: Option<std::path::PathBuf>,
    /// The server's private key (PEM).
    #[arg(
        long = "tls-key-file",
        env = "XINFANG_TLS_KEY_FILE",
        requires = "cert_file"
    )]
    pub key_file: Option<std::path::PathBuf>,
    /// Require callers to present a certificate signed by this CA (PEM): mutual TLS.
    #[arg(
        long = "tls-client-ca-file",
        env = "XINFANG_TLS_CLIENT_CA_FILE",
        requires = "cert_file"
    )]
    pub client_ca_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct OutboxConfig {
    /// How often the relay sweeps for events not yet published (after a crash, an outage
    /// of the broker, or events another replica committed).
    #[arg(long = "outbox-sweep-interval", env = "XINFANG_OUTBOX_SWEEP_INTERVAL", default_value = "2s", value_parser = parse_duration)]
    pub sweep_interval: Duration,
    /// How many events the relay publishes at once.
    #[arg(
        long = "outbox-batch-size",
        env = "XINFANG_OUTBOX_BATCH_SIZE",
        default_value_t = 256,
        value_parser = clap::value_parser!(u64).range(1..=1000)
    )]
    pub batch_size: u64,
    /// How long published events are kept in the outbox, so that `redrive` can publish a
    /// time range again.
    #[arg(long = "outbox-retention", env = "XINFANG_OUTBOX_RETENTION", default_value = "30d", value_parser = parse_duration)]
    pub retention: Duration,
}

/// How consumers batch: each transaction applies up to `batch_size` events, or what
/// arrived within `linger` of the first.
#[derive(Debug, Clone, Args)]
pub struct ConsumerConfig {
    /// Most events one consumer applies in one transaction.
    #[arg(id = "consumer_batch_size", long = "consumer-batch-size", env = "XINFANG_CONSUMER_BATCH_SIZE", default_value_t = 100, value_parser = parse_batch_size)]
    pub batch_size: usize,
    /// How long a consumer waits for more events to fill a batch once one has arrived.
    #[arg(id = "consumer_linger", long = "consumer-linger", env = "XINFANG_CONSUMER_LINGER", default_value = "5ms", value_parser = parse_duration)]
    pub linger: Duration,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            batch_size: 100,
            linger: Duration::from_millis(5),
        }
    }
}

/// A consumer batch holds 1 to 1,000 events.
fn parse_batch_size(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(size @ 1..=1000) => Ok(size),
        _ => Err(format!(
            "batch size {text:?} is not a whole number from 1 to 1000"
        )),
    }
}

/// Parses a duration written as a whole number and a unit: `500ms`, `2s`, `10m`, `12h`, `30d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("duration {text:?} has no unit (ms, s, m, h or d)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("duration {text:?} does not start with a whole number"))?;
    let seconds_per_unit = match unit {
        "ms" => return Ok(Duration::from_millis(number)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "duration unit {other:?} is not one of ms, s, m, h, d"
            ));
        }
    };
    number
        .checked_mul(seconds_per_unit)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("duration {text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Every {
        #[command(flatten)]
        platform: PlatformConfig,
    }

    #[test]
    fn every_setting_has_its_own_name() {
        use clap::CommandFactory;
        Every::command().debug_assert();
    }

    #[test]
    fn durations_are_read_with_their_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
    }

    #[test]
    fn a_duration_without_a_known_unit_is_refused() {
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("10y").is_err());
        assert!(parse_duration("s").is_err());
    }
}
