//! Statistics: the figures leaders read, built from events only: it reads every service's
//! stream and keeps one row of facts per case, never another service's tables.

pub mod api;
pub mod config;
pub mod count;
pub mod migrations;
pub mod overview;
pub mod store;

use tokio_util::sync::CancellationToken;
use xinfang_platform::consumer::ConsumerSpec;
use xinfang_platform::service::{RunningService, Service};
use xinfang_proto::statistics::v1::statistics_service_server::StatisticsServiceServer;
use xinfang_proto::subjects;

pub use config::Config;

use crate::api::StatisticsApi;
use crate::count::{CountCases, SERVICE};

/// One durable consumer per stream statistics reads.
pub fn consumers() -> Vec<ConsumerSpec> {
    subjects::STATISTICS_TAKES
        .into_iter()
        .map(ConsumerSpec::from_binding)
        .collect()
}

pub async fn start(config: Config, shutdown: CancellationToken) -> anyhow::Result<RunningService> {
    let mut service = Service::connect::<migrations::Migrator>(
        SERVICE,
        &config.database_url,
        &config.platform,
        &[],
        shutdown,
    )
    .await?;
    for spec in consumers() {
        service.consume(spec, CountCases);
    }
    let api = StatisticsApi {
        db: service.db.clone(),
    };
    let (router, health) = service.grpc_server()?;
    service.report_readiness::<StatisticsServiceServer<StatisticsApi>>(health);
    let router = router.add_service(
        StatisticsServiceServer::new(api)
            .max_decoding_message_size(xinfang_platform::grpc::MAX_REQUEST_BYTES),
    );
    Ok(service.serve(router, config.grpc_listen).await?)
}

/// Runs statistics until `shutdown` is cancelled and everything in flight has finished.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let (database_url, platform) = (config.database_url.clone(), config.platform.clone());
    xinfang_platform::service::run::<migrations::Migrator, anyhow::Error, _, _>(
        SERVICE,
        &database_url,
        &platform,
        shutdown,
        |shutdown| start(config, shutdown),
    )
    .await
}
