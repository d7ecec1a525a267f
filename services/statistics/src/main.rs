//! The statistics service binary: reads its configuration and runs it.

use clap::Parser;
use xinfang_statistics::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = xinfang_platform::telemetry::init("statistics", config.platform.log_json);
    xinfang_statistics::run(config, xinfang_platform::shutdown::on_signal()).await
}
