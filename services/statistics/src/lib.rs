//! Statistics: the figures leaders read, built from events only. Every event it counts is
//! kept as a fact (`keep`), each case's record is folded from its facts (`record`,
//! `project`), and the figures are plain formulas over the records (`figures`, `work`),
//! read now or as they stood at a moment (`query`). Never another service's tables.

pub mod api;
pub mod config;
pub mod facts;
pub mod figures;
pub mod formula;
pub mod keep;
pub mod migrations;
pub mod overview;
pub mod period;
pub mod project;
pub mod query;
pub mod rebuild;
pub mod record;
pub mod render;
pub mod report;
pub mod store;
pub mod work;

use tokio_util::sync::CancellationToken;
use xinfang_platform::consumer::ConsumerSpec;
use xinfang_platform::service::{RunningService, Service};
use xinfang_proto::statistics::v1::statistics_service_server::StatisticsServiceServer;
use xinfang_proto::subjects;

pub use config::Config;

use crate::api::StatisticsApi;
use crate::keep::{KeepFacts, SERVICE};

/// One durable consumer per binding statistics reads.
pub fn consumers() -> Vec<ConsumerSpec> {
    subjects::STATISTICS_TAKES
        .into_iter()
        .map(ConsumerSpec::from_binding)
        .collect()
}

pub async fn start(config: Config, shutdown: CancellationToken) -> anyhow::Result<RunningService> {
    formula::formula(&config.formula_version)?;
    let mut service = Service::connect::<migrations::Migrator>(
        SERVICE,
        &config.database_url,
        &config.platform,
        &[],
        shutdown,
    )
    .await?;
    // Records folded by an older fold are folded again before any new fact is applied.
    project::reproject(&service.db).await?;
    for spec in consumers() {
        service.consume(spec, KeepFacts);
    }
    let api = StatisticsApi {
        db: service.db.clone(),
        clock: service.clock.clone(),
        formula_version: config.formula_version.clone(),
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
