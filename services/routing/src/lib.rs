//! Routing: classifies each registered petition by law and sends it to the responsible unit,
//! by territory and matter category, never to a unit it accuses; announces each decision on
//! a subject that carries the unit's code.

pub mod administer;
pub mod api;
pub mod by_hand;
pub mod category_tables;
pub mod config;
pub mod corrections;
pub mod directory;
pub mod error;
pub mod links;
pub mod migrations;
pub mod procedure;
pub mod publish;
pub mod requests;
pub mod route;
pub mod rules;
pub mod store;
pub mod versions;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use xinfang_platform::calls::Callee;
use xinfang_platform::consumer::ConsumerSpec;
use xinfang_platform::service::{RunningService, Service};
use xinfang_proto::routing::v1::routing_service_server::RoutingServiceServer;
use xinfang_proto::subjects;

pub use config::Config;

use crate::api::RoutingApi;
use crate::directory::Directory;
use crate::route::{RouteRegistered, SERVICE};
use crate::versions::DirectoryVersions;

/// How routing takes registered petitions off intake's stream.
pub fn registered_consumer() -> ConsumerSpec {
    ConsumerSpec::from_binding(subjects::ROUTING_TAKES_REGISTERED)
}

/// Connects, migrates, keeps the directory file in the database at the first start
/// (refusing to start on a faulty one), and starts routing and serving in the background.
pub async fn start(config: Config, shutdown: CancellationToken) -> anyhow::Result<RunningService> {
    let mut service = Service::connect::<migrations::Migrator>(
        SERVICE,
        &config.database_url,
        &config.platform,
        &[subjects::ROUTING_STREAM],
        shutdown,
    )
    .await?;
    let versions = DirectoryVersions::new(service.write_path().clock.clone());
    if versions::has_directory(&service.db).await? {
        tracing::info!(
            file = %config.directory.display(),
            "the directory is kept in the database: the file is read at the first start only"
        );
    } else {
        let file = Directory::load(&config.directory)
            .with_context(|| format!("load the directory {}", config.directory.display()))?;
        if versions.seed(&service.db, &file).await? {
            tracing::info!(version = %file.version, units = file.units().count(), "directory loaded from its file");
        }
    }
    let directory = versions
        .in_effect(&service.db)
        .await
        .context("read the directory in effect")?;
    tracing::info!(version = %directory.version, revision = directory.revision, "directory in effect");
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
            versions: versions.clone(),
            assignment_days: config.assignment_days,
        },
    );
    service.consume(
        ConsumerSpec::from_binding(subjects::ROUTING_TAKES_LINKS),
        links::FollowLinks,
    );
    service.consume(
        ConsumerSpec::from_binding(subjects::ROUTING_TAKES_CORRECTIONS),
        corrections::FollowCorrections {
            versions: versions.clone(),
        },
    );
    service.consume(
        ConsumerSpec::from_binding(subjects::ROUTING_TAKES_RECUSALS),
        xinfang_platform::recusal::KeepRecusals,
    );
    let api = RoutingApi {
        db: service.db.clone(),
        write: service.write_path(),
        versions,
        assignment_days: config.assignment_days,
        procedure: procedure::Procedure {
            supervision: Callee::new("supervision", &config.supervision_url, config.identity)
                .with_context(|| format!("supervision URL {:?}", config.supervision_url))?,
        },
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
