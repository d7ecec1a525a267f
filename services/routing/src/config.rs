//! Routing's settings: flags or environment variables, with defaults for `make run`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use xinfang_platform::calls::ServiceIdentity;
use xinfang_platform::config::PlatformConfig;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "xinfang-routing",
    about = "Routes each case to its responsible unit",
    version
)]
pub struct Config {
    /// Routing's own database: a SQLite file, or PostgreSQL.
    #[arg(
        long,
        env = "XINFANG_DATABASE_URL",
        default_value = "sqlite://.data/routing.db?mode=rwc"
    )]
    pub database_url: String,
    /// Where the gRPC API listens.
    #[arg(long, env = "XINFANG_GRPC_LISTEN", default_value = "127.0.0.1:50052")]
    pub grpc_listen: SocketAddr,
    /// The organisation directory with its matter categories (TOML).
    #[arg(
        long,
        env = "XINFANG_ROUTING_DIRECTORY",
        default_value = "services/routing/directory/xingping.toml"
    )]
    pub directory: PathBuf,
    /// Days an assignment (交办) gives the unit to report the result, unless a higher
    /// bureau set a sooner deadline.
    #[arg(long, env = "XINFANG_ROUTING_ASSIGNMENT_DAYS", default_value_t = 30)]
    pub assignment_days: u16,
    /// Supervision's gRPC API: routing asks it where a case stands before moving it.
    #[arg(
        long,
        env = "XINFANG_SUPERVISION_URL",
        default_value = "http://127.0.0.1:50053"
    )]
    pub supervision_url: String,
    #[command(flatten)]
    pub identity: ServiceIdentity,
    #[command(flatten)]
    pub platform: PlatformConfig,
}
