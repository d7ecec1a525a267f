//! The supervision service binary: reads its configuration and runs it.

use clap::Parser;
use xinfang_supervision::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = xinfang_platform::telemetry::init("supervision", config.platform.log_json);
    xinfang_supervision::run(config, xinfang_platform::shutdown::on_signal()).await
}
