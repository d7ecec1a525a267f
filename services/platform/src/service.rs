//! Starting a service the same way every time: connect and migrate its database, connect
//! to NATS and declare the streams it publishes into, run its outbox relay and its
//! consumers, and serve its gRPC API beside health and reflection. A service's `start`
//! names what is its own and leaves the order of things to this module.

use std::net::SocketAddr;

use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic_health::server::HealthReporter;
use xinfang_proto::subjects::StreamSpec;

use crate::auth::token::KeyError;
use crate::auth::{AuditLog, AuthLayer};
use crate::config::PlatformConfig;
use crate::consumer::{Consumer, ConsumerError, ConsumerSpec, Handler};
use crate::grpc::GrpcRouter;
use crate::jetstream::{JetStreamError, connect, ensure_stream};
use crate::outbox::OutboxHandle;
use crate::outbox::relay::{OutboxRelay, outbox_relay};
use crate::{database, grpc};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("connect to {service}'s database: {source}")]
    Database {
        service: &'static str,
        source: DbErr,
    },
    #[error("migrate {service}'s database: {source}")]
    Migrate {
        service: &'static str,
        source: DbErr,
    },
    #[error(transparent)]
    JetStream(#[from] JetStreamError),
    #[error(transparent)]
    Server(#[from] grpc::ServerError),
    #[error("load the keys that verify tokens: {0}")]
    Keys(#[from] KeyError),
    #[error("bind the gRPC address {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// Why a running service stopped other than by being asked to.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("serve gRPC: {0}")]
    Grpc(#[from] tonic::transport::Error),
    #[error(transparent)]
    Consumer(#[from] ConsumerError),
    #[error("a consumer died: {0}")]
    ConsumerDied(String),
}

/// Applies a service's migrations and returns: what `--migrate-only` runs.
pub async fn migrate_only<M: MigratorTrait>(
    name: &'static str,
    database_url: &str,
    config: &PlatformConfig,
) -> Result<(), StartError> {
    let db = database::connect(database_url, 1)
        .await
        .map_err(|source| StartError::Database {
            service: name,
            source,
        })?;
    M::up(&db, None)
        .await
        .map_err(|source| StartError::Migrate {
            service: name,
            source,
        })?;
    tracing::info!(service = name, nats = %config.nats.url, "migrations applied; exiting (--migrate-only)");
    Ok(())
}

/// A service with its database and broker connected, before it serves.
pub struct Service {
    pub name: &'static str,
    pub db: DatabaseConnection,
    pub jetstream: async_nats::jetstream::Context,
    /// Hands committed events to the relay for immediate publication.
    pub outbox: OutboxHandle,
    relay: OutboxRelay,
    auth: AuthLayer,
    config: PlatformConfig,
    consumers: Vec<BoxFuture<'static, Result<(), ConsumerError>>>,
    shutdown: CancellationToken,
}

/// A started service: where it listens, and the task that ends when it has shut down.
pub struct RunningService {
    pub grpc_address: SocketAddr,
    pub task: JoinHandle<Result<(), ServiceError>>,
}

impl Service {
    /// Connects to the database (migrating it unless turned off) and to NATS, and declares
    /// the streams the service publishes into.
    pub async fn connect<M: MigratorTrait>(
        name: &'static str,
        database_url: &str,
        config: &PlatformConfig,
        publishes_into: &[StreamSpec],
        shutdown: CancellationToken,
    ) -> Result<Self, StartError> {
        if let Some(address) = config.metrics_listen
            && let Err(error) = crate::telemetry::serve_metrics(address)
        {
            // One exporter per process: a second service in the same process shares it.
            tracing::warn!(error = %error, "metrics not served by this service");
        }
        let db = database::connect(database_url, config.database_max_connections)
            .await
            .map_err(|source| StartError::Database {
                service: name,
                source,
            })?;
        if config.migrate {
            M::up(&db, None)
                .await
                .map_err(|source| StartError::Migrate {
                    service: name,
                    source,
                })?;
        }
        let verifier = config.auth.verifier().await?;
        let auth = AuthLayer::new(verifier, AuditLog::new(db.clone()));
        let client = connect(&config.nats, name).await?;
        let jetstream = async_nats::jetstream::new(client);
        for stream in publishes_into {
            ensure_stream(&jetstream, *stream, &config.nats).await?;
        }
        let (relay, outbox) =
            outbox_relay(db.clone(), jetstream.clone(), config.outbox.clone(), name);
        Ok(Self {
            name,
            db,
            jetstream,
            outbox,
            relay,
            auth,
            config: config.clone(),
            consumers: Vec::new(),
            shutdown,
        })
    }

    /// A gRPC server with health and reflection and the authorisation layer in front of
    /// every call; the service adds its API and marks it serving on the reporter.
    pub fn grpc_server(&self) -> Result<(GrpcRouter, HealthReporter), StartError> {
        let tls = grpc::tls_config(&self.config.tls)?;
        Ok(grpc::server_with_health_and_reflection(
            self.auth.clone(),
            tls,
        )?)
    }

    /// Adds a durable consumer that applies events with `handler`; the events it causes go
    /// out through this service's outbox.
    pub fn consume<H: Handler>(&mut self, spec: ConsumerSpec, handler: H) {
        let consumer = Consumer {
            db: self.db.clone(),
            jetstream: self.jetstream.clone(),
            spec,
            handler,
            outbox: Some(self.outbox.clone()),
        };
        let nats = self.config.nats.clone();
        let shutdown = self.shutdown.clone();
        self.consumers
            .push(Box::pin(async move { consumer.run(&nats, shutdown).await }));
    }

    /// Binds `listen` and serves `router` (which already carries health and reflection)
    /// with the relay and the consumers beside it, until shutdown or until one of them
    /// fails; then stops the rest and lets work in hand finish.
    pub async fn serve(
        self,
        router: GrpcRouter,
        listen: SocketAddr,
    ) -> Result<RunningService, StartError> {
        let (listener, grpc_address) =
            grpc::bind(listen)
                .await
                .map_err(|source| StartError::Bind {
                    address: listen,
                    source,
                })?;
        tracing::info!(service = self.name, grpc = %grpc_address, "listening");
        let shutdown = self.shutdown;
        let relay = tokio::spawn(self.relay.run(shutdown.clone()));
        let consumers: Vec<_> = self.consumers.into_iter().map(tokio::spawn).collect();
        let task = tokio::spawn(async move {
            let stop_all = shutdown.clone();
            let mut grpc = tokio::spawn(grpc::serve(router, listener, shutdown.clone()));
            let mut outcome: Result<(), ServiceError> = Ok(());
            let consumers_done = async move {
                if consumers.is_empty() {
                    // A service that consumes nothing runs until shutdown.
                    return futures::future::pending().await;
                }
                futures::future::try_join_all(consumers.into_iter().map(|consumer| async move {
                    match consumer.await {
                        Ok(result) => result.map_err(ServiceError::from),
                        // A consumer that died must take the service down with it, so that
                        // it is restarted rather than serve without consuming.
                        Err(error) => Err(ServiceError::ConsumerDied(error.to_string())),
                    }
                }))
                .await
                .map(|_| ())
            };
            tokio::pin!(consumers_done);
            tokio::select! {
                served = &mut grpc => {
                    if let Ok(Err(error)) = served { outcome = Err(error.into()); }
                }
                consumed = &mut consumers_done => {
                    if let Err(error) = consumed { outcome = Err(error); }
                }
                () = shutdown.cancelled() => {}
            }
            stop_all.cancel();
            let _ = grpc.await;
            let _ = relay.await;
            outcome
        });
        Ok(RunningService { grpc_address, task })
    }
}
