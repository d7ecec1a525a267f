//! Intake's settings: flags or environment variables, with defaults for `make run`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};
use xinfang_platform::config::{PlatformConfig, parse_duration};

use crate::codes::RegionCode;
use crate::matching::MatchingRules;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "xinfang-intake",
    about = "Takes petitions in and registers them",
    version
)]
pub struct Config {
    /// Intake's own database: a SQLite file, or PostgreSQL.
    #[arg(
        long,
        env = "XINFANG_DATABASE_URL",
        default_value = "sqlite://.data/intake.db?mode=rwc"
    )]
    pub database_url: String,
    /// Where the gRPC API listens.
    #[arg(long, env = "XINFANG_GRPC_LISTEN", default_value = "127.0.0.1:50051")]
    pub grpc_listen: SocketAddr,
    /// The bureau's six-digit GB/T 2260 region code, the first part of every case number.
    #[arg(long, env = "XINFANG_INTAKE_REGION_CODE", default_value = "610481")]
    pub region_code: RegionCode,
    /// From this many people up, a petition counts as collective (集体访).
    #[arg(long, env = "XINFANG_INTAKE_COLLECTIVE_THRESHOLD", default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..))]
    pub collective_threshold: u32,
    /// The keys that seal petitioners' and accused persons' identities at rest (a TOML file;
    /// see README, "Personal data"). Mount it from a secret; without it nothing sealed opens.
    #[arg(
        long,
        env = "XINFANG_INTAKE_IDENTITY_KEYS_FILE",
        default_value = ".data/intake-identity.keys"
    )]
    pub identity_keys_file: PathBuf,
    /// Create the key file when it is missing (`make run` does). Off by default: in
    /// production a missing secret must stop intake, not start each replica on a key of
    /// its own.
    #[arg(long, env = "XINFANG_INTAKE_IDENTITY_KEYS_CREATE", default_value_t = false, action = ArgAction::Set)]
    pub identity_keys_create: bool,
    /// How often rows not sealed under the current key (older rows, or after a rotation)
    /// are sealed again.
    #[arg(long, env = "XINFANG_INTAKE_RESEAL_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    pub reseal_interval: Duration,
    /// A petition by the same petitioner (same ID number or phone) this close to an earlier
    /// one of the same matter is a repeat (重复信访).
    #[arg(long, env = "XINFANG_INTAKE_REPEAT_WINDOW", default_value = "365d", value_parser = parse_duration)]
    pub repeat_window: Duration,
    /// How alike (0–1, character bigrams) a petition must be to the same petitioner's
    /// earlier one to be a repeat.
    #[arg(long, env = "XINFANG_INTAKE_REPEAT_SIMILARITY", default_value = "0.5", value_parser = parse_share)]
    pub repeat_similarity: f64,
    /// Other petitioners' near-identical petitions this close together make one collective
    /// matter.
    #[arg(long, env = "XINFANG_INTAKE_COLLECTIVE_WINDOW", default_value = "30d", value_parser = parse_duration)]
    pub collective_window: Duration,
    /// How alike (0–1) other petitioners' texts must be to make one collective matter.
    #[arg(long, env = "XINFANG_INTAKE_COLLECTIVE_SIMILARITY", default_value = "0.8", value_parser = parse_share)]
    pub collective_similarity: f64,
    /// How many queued submissions (the NATS surge channel) one replica registers at once:
    /// below XINFANG_DATABASE_MAX_CONNECTIONS, so that a surge leaves connections for the
    /// clerks' calls (more replicas, not more of these, register a surge faster).
    #[arg(long, env = "XINFANG_INTAKE_SUBMISSION_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub submission_concurrency: u32,
    #[command(flatten)]
    pub platform: PlatformConfig,
}

impl Config {
    pub fn matching(&self) -> MatchingRules {
        MatchingRules {
            repeat_window: self.repeat_window,
            repeat_similarity: self.repeat_similarity,
            collective_window: self.collective_window,
            collective_similarity: self.collective_similarity,
        }
    }
}

fn parse_share(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) && share > 0.0 => Ok(share),
        _ => Err(format!("{text:?} is not a number above 0 and at most 1")),
    }
}
