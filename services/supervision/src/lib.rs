//! Supervision: the case's procedural timeline and every legal clock on it.
//!
//! Each routed case gets its timeline with the first deadlines ([`timeline`]), counted by
//! the pure arithmetic of [`deadlines`] over the official holiday calendar ([`calendar`]).

pub mod api;
pub mod calendar;
pub mod config;
pub mod deadlines;
pub mod ledger;
pub mod lifecycle;
pub mod migrations;
pub mod store;
pub mod supervise;
pub mod timeline;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use xinfang_platform::consumer::ConsumerSpec;
use xinfang_platform::service::{RunningService, Service};
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::supervision_service_server::SupervisionServiceServer;

pub use config::Config;

use crate::api::SupervisionApi;
use crate::calendar::HolidayCalendar;
use crate::supervise::{OpenTimelines, SERVICE};

/// How supervision takes routing decisions off routing's stream, for every unit.
pub fn routed_consumer() -> ConsumerSpec {
    ConsumerSpec::from_binding(subjects::SUPERVISION_TAKES_ROUTED)
}

pub async fn start(config: Config, shutdown: CancellationToken) -> anyhow::Result<RunningService> {
    let calendar = HolidayCalendar::official().context("load the official holiday calendar")?;
    let mut service = Service::connect::<migrations::Migrator>(
        SERVICE,
        &config.database_url,
        &config.platform,
        &[subjects::SUPERVISION_STREAM],
        shutdown,
    )
    .await?;
    service.consume(
        routed_consumer(),
        OpenTimelines {
            calendar: std::sync::Arc::new(calendar),
        },
    );
    let api = SupervisionApi {
        db: service.db.clone(),
    };
    let (router, health) = service.grpc_server()?;
    service.report_readiness::<SupervisionServiceServer<SupervisionApi>>(health);
    let router = router.add_service(
        SupervisionServiceServer::new(api)
            .max_decoding_message_size(xinfang_platform::grpc::MAX_REQUEST_BYTES),
    );
    Ok(service.serve(router, config.grpc_listen).await?)
}

/// Runs supervision until `shutdown` is cancelled and everything in flight has finished.
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
