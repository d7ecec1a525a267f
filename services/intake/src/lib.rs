//! Intake: takes petitions in, registers each with a case number, keeps the petitioner's
//! identity, and announces every registration with an event (through the outbox).

pub mod answer;
pub mod api;
pub mod attachments;
pub mod case_number;
pub mod codes;
pub mod config;
pub mod corrections;
pub mod desk;
pub mod directory;
pub mod finality;
pub mod follow;
pub mod identity;
pub mod links;
pub mod matching;
pub mod migrations;
pub mod numbering;
pub mod petition;
pub mod query_code;
pub mod register;
pub mod related;
pub mod reseal;
pub mod reveal;
pub mod scope;
pub mod sealed_identity;
pub mod search;
pub mod store;
pub mod submission;
pub mod surge;
pub mod view;
pub mod visit;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use xinfang_platform::consumer::ConsumerSpec;
use xinfang_platform::grpc;
use xinfang_platform::sealing::KeyRing;
use xinfang_platform::service::{RunningService, Service};
use xinfang_proto::intake::v1::intake_service_server::IntakeServiceServer;
use xinfang_proto::subjects;

pub use config::Config;

use crate::api::IntakeApi;
use crate::numbering::NumberSource;
use crate::register::{Registrar, SERVICE};
use crate::surge::SubmissionDesk;
use xinfang_platform::auth::AuditLog;

/// Connects, migrates, declares the stream, binds, and starts serving in the background.
/// Returns once intake is ready to take petitions.
pub async fn start(config: Config, shutdown: CancellationToken) -> anyhow::Result<RunningService> {
    anyhow::ensure!(
        config.submission_concurrency < config.platform.database_max_connections,
        "XINFANG_INTAKE_SUBMISSION_CONCURRENCY ({}) must be below XINFANG_DATABASE_MAX_CONNECTIONS ({}): a surge must leave connections for the clerks",
        config.submission_concurrency,
        config.platform.database_max_connections
    );
    // Before anything else: without its keys intake can neither store nor read a petitioner.
    let keys = Arc::new(KeyRing::load(
        &config.identity_keys_file,
        config.identity_keys_create,
    )?);
    let mut service = Service::connect::<migrations::Migrator>(
        SERVICE,
        &config.database_url,
        &config.platform,
        &[subjects::INTAKE_STREAM, subjects::SUBMISSION_STREAM],
        shutdown,
    )
    .await?;
    service.consume(
        ConsumerSpec::from_binding(subjects::INTAKE_TAKES_ROUTED),
        scope::RecordScope,
    );
    service.consume(
        ConsumerSpec::from_binding(subjects::INTAKE_TAKES_DIRECTORY),
        directory::RecordDirectory,
    );
    service.consume(
        ConsumerSpec::from_binding(subjects::INTAKE_TAKES_FINAL),
        finality::RecordFinality { keys: keys.clone() },
    );
    let (db, resealing, interval) = (service.db.clone(), keys.clone(), config.reseal_interval);
    service.spawn_task("identity re-sealing", move |stop| async move {
        reseal::run(db, resealing, interval, stop).await;
        Ok(())
    });
    service.consume(
        ConsumerSpec::from_binding(subjects::INTAKE_TAKES_RECUSALS),
        xinfang_platform::recusal::KeepRecusals,
    );
    let registrar = Registrar {
        region: config.region_code.clone(),
        collective_threshold: config.collective_threshold,
        numbers: NumberSource::for_backend(service.db.get_database_backend()),
        connection_attempts: config.platform.database_max_connections.saturating_add(1),
        keys,
        matching: config.matching(),
    };
    let desk = Arc::new(SubmissionDesk {
        write: service.write_path(),
        registrar: registrar.clone(),
        audit: AuditLog::new(service.db.clone()),
        client: service.jetstream.client(),
    });
    let (jetstream, concurrency) = (
        service.jetstream.clone(),
        config.submission_concurrency as usize,
    );
    service.spawn_task("submission desk", move |stop| async move {
        surge::run(desk, jetstream, concurrency, stop)
            .await
            .map_err(Into::into)
    });
    let api = IntakeApi {
        write: service.write_path(),
        registrar,
    };
    let (router, health) = service.grpc_server()?;
    service.report_readiness::<IntakeServiceServer<IntakeApi>>(health);
    let router = router.add_service(
        IntakeServiceServer::new(api).max_decoding_message_size(grpc::MAX_REQUEST_BYTES),
    );
    Ok(service.serve(router, config.grpc_listen).await?)
}

/// Runs intake until `shutdown` is cancelled and everything in flight has finished.
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
