//! The routing service binary: reads its configuration and runs it.

use clap::Parser;
use xinfang_routing::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = xinfang_platform::telemetry::init("routing", config.platform.log_json);
    xinfang_routing::run(config, xinfang_platform::shutdown::on_signal()).await
}
