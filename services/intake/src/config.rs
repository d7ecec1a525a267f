//! Intake's settings: flags or environment variables, with defaults for `make run`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};
use xinfang_platform::config::{PlatformConfig, parse_duration};

use crate::codes::RegionCode;

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
    /// Create the key file when it is missing: for `make run` and a first start. Turn it off
    /// in production, where a missing secret must stop intake rather than start a new key.
    #[arg(long, env = "XINFANG_INTAKE_IDENTITY_KEYS_CREATE", default_value_t = true, action = ArgAction::Set)]
    pub identity_keys_create: bool,
    /// How often rows not sealed under the current key (older rows, or after a rotation)
    /// are sealed again.
    #[arg(long, env = "XINFANG_INTAKE_RESEAL_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    pub reseal_interval: Duration,
    #[command(flatten)]
    pub platform: PlatformConfig,
}
