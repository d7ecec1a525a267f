//! Routing: classifies each registered petition by law and sends it to the responsible unit,
//! by territory and matter category, never to a unit it accuses; announces each decision on
//! a subject that carries the unit's code.

pub mod api;
pub mod by_hand;
pub mod config;
pub mod directory;
pub mod migrations;
pub mod publish;
pub mod route;
pub mod rules;
pub mod store;

use anyhow::Context;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use xinfang_platform::consumer::ConsumerSpec;
use xinfang_platform::service::{RunningService, Service};
use xinfang_proto::routing::v1::routing_service_server::RoutingServiceServer;
use xinfang_proto::subjects;

pub use config::Config;

use crate::api::RoutingApi;
use crate::directory::Directory;
use crate::route::{RouteRegistered, SERVICE};

/// How routing takes registered petitions off intake's stream.
pub fn registered_consumer() -> ConsumerSpec {
    ConsumerSpec::from_binding(subjects::ROUTING_TAKES_REGISTERED)
}

/// Loads the directory (refusing to start on a faulty one), connects, migrates, and starts
/// routing and serving in the background.
pub async fn start(config: Config, shutdown: CancellationToken) -> anyhow::Result<RunningService> {
    let directory = Arc::new(
        Directory::load(&config.directory)
            .with_context(|| format!("load the directory {}", config.directory.display()))?,
    );
    tracing::info!(version = %directory.version, units = directory.units().count(), "directory loaded");
    let mut service = Service::connect::<migrations::Migrator>(
        SERVICE,
        &config.database_url,
        &config.platform,
        &[subjects::ROUTING_STREAM],
        shutdown,
    )
    .await?;
    let announced = service
        .write_path()
        .execute(publish::PublishDirectory::of(&directory))
        .await
        .context("record the directory's publication")?;
    if announced.is_some() {
        tracing::info!(version = %directory.version, "directory published");
    }
    service.consume(
        registered_consumer(),
        RouteRegistered {
            directory: directory.clone(),
            assignment_days: config.assignment_days,
        },
    );
    let api = RoutingApi {
        db: service.db.clone(),
        write: service.write_path(),
        directory,
        assignment_days: config.assignment_days,
    };
    let (router, health) = service.grpc_server()?;
    service.report_readiness::<RoutingServiceServer<RoutingApi>>(health);
    let router = router.add_service(
        RoutingServiceServer::new(api)
            .max_decoding_message_size(xinfang_platform::grpc::MAX_REQUEST_BYTES),
    );
    Ok(service.serve(router, config.grpc_listen).await?)
}

/// Runs routing until `shutdown` is cancelled and everything in flight has finished.
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
