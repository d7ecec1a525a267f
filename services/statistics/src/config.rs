//! Statistics' settings: flags or environment variables, with defaults for `make run`.

use std::net::SocketAddr;

use clap::Parser;
use xinfang_platform::config::PlatformConfig;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "xinfang-statistics",
    about = "Builds the figures from events",
    version
)]
pub struct Config {
    /// Statistics' own database: a SQLite file, or PostgreSQL.
    #[arg(
        long,
        env = "XINFANG_DATABASE_URL",
        default_value = "sqlite://.data/statistics.db?mode=rwc"
    )]
    pub database_url: String,
    /// Where the gRPC API listens.
    #[arg(long, env = "XINFANG_GRPC_LISTEN", default_value = "127.0.0.1:50054")]
    pub grpc_listen: SocketAddr,
    /// The formula version a figure request that names none gets (`v1`, `v2`).
    #[arg(long, env = "XINFANG_STATISTICS_FORMULA", default_value = "v1")]
    pub formula_version: String,
    #[command(flatten)]
    pub platform: PlatformConfig,
}
