//! Supervision's settings: flags or environment variables, with defaults for `make run`.

use std::net::SocketAddr;

use clap::Parser;
use xinfang_platform::config::PlatformConfig;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "xinfang-supervision",
    about = "Runs every legal clock of a case",
    version
)]
pub struct Config {
    /// Supervision's own database: a SQLite file, or PostgreSQL.
    #[arg(
        long,
        env = "XINFANG_DATABASE_URL",
        default_value = "sqlite://.data/supervision.db?mode=rwc"
    )]
    pub database_url: String,
    /// Where the gRPC API listens.
    #[arg(long, env = "XINFANG_GRPC_LISTEN", default_value = "127.0.0.1:50053")]
    pub grpc_listen: SocketAddr,
    /// The bureau's own unit code (as in the directory): the subject of events about a
    /// case no unit has yet.
    #[arg(long, env = "XINFANG_BUREAU_CODE", default_value = "xfj")]
    pub bureau_code: String,
    #[command(flatten)]
    pub platform: PlatformConfig,
}
