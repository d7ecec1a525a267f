//! The intake service binary: reads its configuration and runs it.

use clap::Parser;
use xinfang_intake::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = xinfang_platform::telemetry::init("intake", config.platform.log_json);
    xinfang_intake::run(config, xinfang_platform::shutdown::on_signal()).await
}
