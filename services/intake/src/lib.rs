//! Intake: takes petitions in, registers each with a case number, keeps the petitioner's
//! identity, and announces every registration with an event (through the outbox).

pub mod api;
pub mod case_number;
pub mod codes;
pub mod config;
pub mod identity;
pub mod migrations;
pub mod petition;
pub mod register;
pub mod store;
pub mod view;

use std::net::SocketAddr;

use anyhow::Context;
use sea_orm_migration::MigratorTrait;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use xinfang_platform::{database, grpc, jetstream, outbox::relay::outbox_relay};
use xinfang_proto::intake::v1::intake_service_server::IntakeServiceServer;
use xinfang_proto::subjects;

pub use config::Config;

use crate::api::IntakeApi;
use crate::register::{Registrar, SERVICE};

/// A started intake: where it listens, and the task that ends when it has shut down.
pub struct RunningIntake {
    pub grpc_address: SocketAddr,
    pub task: JoinHandle<anyhow::Result<()>>,
}

/// Connects, migrates, declares the stream, binds, and starts serving in the background.
/// Returns once intake is ready to take petitions.
pub async fn start(config: Config, shutdown: CancellationToken) -> anyhow::Result<RunningIntake> {
    let db = database::connect(
        &config.database_url,
        config.platform.database_max_connections,
    )
    .await
    .context("connect to intake's database")?;
    if config.platform.migrate {
        migrations::Migrator::up(&db, None)
            .await
            .context("migrate intake's database")?;
    }
    let nats = jetstream::connect(&config.platform.nats, SERVICE).await?;
    let jetstream = async_nats::jetstream::new(nats);
    jetstream::ensure_stream(&jetstream, subjects::INTAKE_STREAM, &config.platform.nats).await?;

    let (relay, outbox) = outbox_relay(
        db.clone(),
        jetstream,
        config.platform.outbox.clone(),
        SERVICE,
    );
    let api = IntakeApi {
        db,
        registrar: Registrar {
            region: config.region_code.clone(),
            collective_threshold: config.collective_threshold,
        },
        outbox,
    };
    let (router, health) = grpc::server_with_health_and_reflection()?;
    health.set_serving::<IntakeServiceServer<IntakeApi>>().await;
    let router = router.add_service(
        IntakeServiceServer::new(api).max_decoding_message_size(grpc::MAX_REQUEST_BYTES),
    );
    let (listener, grpc_address) = grpc::bind(config.grpc_listen)
        .await
        .context("bind the gRPC address")?;
    tracing::info!(grpc = %grpc_address, "intake listening");

    let task = tokio::spawn(async move {
        let relay = tokio::spawn(relay.run(shutdown.clone()));
        let served = grpc::serve(router, listener, shutdown).await;
        let _ = relay.await;
        served.context("serve gRPC")
    });
    Ok(RunningIntake { grpc_address, task })
}

/// Runs intake until `shutdown` is cancelled and everything in flight has finished.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let running = start(config, shutdown).await?;
    running.task.await.context("intake task")?
}
