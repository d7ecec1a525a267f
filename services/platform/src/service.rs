//! Starting a service the same way every time: connect and migrate its database, connect
//! to NATS and declare the streams it publishes into, run its outbox relay and its
//! consumers, and serve its gRPC API beside health and reflection. A service's `start`
//! names what is its own and leaves the order of things to this module.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

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
use crate::readiness::{Consuming, Readiness};
use crate::write::{Clock, WritePath};
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
    #[error("task {name} failed: {reason}")]
    Task { name: &'static str, reason: String },
}

/// Runs a service until `shutdown` and everything in flight has finished, or only applies
/// its migrations when configured so (the Kubernetes Job): what every service's `run` is.
pub async fn run<M, E, F, Fut>(
    name: &'static str,
    database_url: &str,
    config: &PlatformConfig,
    shutdown: CancellationToken,
    start: F,
) -> Result<(), E>
where
    M: MigratorTrait,
    E: From<StartError> + From<ServiceError> + From<tokio::task::JoinError>,
    F: FnOnce(CancellationToken) -> Fut,
    Fut: Future<Output = Result<RunningService, E>>,
{
    if config.migrate_only {
        return Ok(migrate_only::<M>(name, database_url, config).await?);
    }
    let running = start(shutdown).await?;
    Ok(running.task.await??)
}

/// What a background task fails with.
pub type TaskError = Box<dyn std::error::Error + Send + Sync>;

/// How often the audit rows are sealed into their hash chain.
const AUDIT_SEAL_INTERVAL: Duration = Duration::from_secs(2);

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
    tasks: Vec<(&'static str, BoxFuture<'static, Result<(), TaskError>>)>,
    /// Cancelled by the signal: stop taking work.
    shutdown: CancellationToken,
    /// Cancelled once the service has stopped taking work: what the consumers, the gRPC
    /// server and the tasks watch.
    work: CancellationToken,
    pub clock: Clock,
    /// Where readiness is reported, and under which gRPC service name.
    health: Option<(HealthReporter, &'static str)>,
    consuming: Vec<(String, Consuming)>,
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
        let mut service = Self {
            name,
            db,
            jetstream,
            outbox,
            relay,
            auth,
            config: config.clone(),
            consumers: Vec::new(),
            tasks: Vec::new(),
            work: CancellationToken::new(),
            shutdown,
            clock: Clock::system(),
            health: None,
            consuming: Vec::new(),
        };
        // The audit rows, sealed into their hash chain as they commit.
        let sealed = service.db.clone();
        service.spawn_task("audit seals", |stop| async move {
            crate::auth::seal::run(sealed, AUDIT_SEAL_INTERVAL, stop).await;
            Ok(())
        });
        Ok(service)
    }

    /// Reports readiness on `reporter` for the gRPC service `S` (and the server as a whole)
    /// once serving: SERVING while the database answers, every consumer consumes and the
    /// relay is not stuck (see `readiness`).
    pub fn report_readiness<S: tonic::server::NamedService>(&mut self, reporter: HealthReporter) {
        self.health = Some((reporter, S::NAME));
    }

    /// The write path for the service's commands: its database, its outbox, its clock.
    pub fn write_path(&self) -> WritePath {
        WritePath {
            db: self.db.clone(),
            outbox: self.outbox.clone(),
            clock: self.clock.clone(),
        }
    }

    /// Runs a background task beside the consumers (a timer, a reconciliation). It gets a
    /// token cancelled when the service stops taking work, and must return soon after; an
    /// error from it takes the service down, so that it is restarted.
    pub fn spawn_task<F, Fut>(&mut self, name: &'static str, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = Result<(), TaskError>> + Send + 'static,
    {
        self.tasks.push((name, Box::pin(task(self.work.clone()))));
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
        let consuming = Consuming::default();
        self.consuming.push((spec.name.clone(), consuming.clone()));
        let consumer = Consumer {
            db: self.db.clone(),
            jetstream: self.jetstream.clone(),
            spec,
            handler,
            outbox: Some(self.outbox.clone()),
            batching: self.config.consumer.clone(),
            clock: self.clock.clone(),
            consuming,
        };
        let nats = self.config.nats.clone();
        let shutdown = self.work.clone();
        self.consumers
            .push(Box::pin(async move { consumer.run(&nats, shutdown).await }));
    }

    /// Binds `listen` and serves `router` (which already carries health and reflection)
    /// with the relay, the consumers and the tasks beside it, until shutdown or until one
    /// of them fails. Then it drains, within the configured grace: stop taking calls and
    /// messages, finish the calls and the batch in hand, stop the tasks, and publish every
    /// committed event before the relay stops.
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
        let name = self.name;
        let grace = self.config.shutdown_grace;
        let (shutdown, work) = (self.shutdown, self.work);
        let relay_stop = CancellationToken::new();
        let relay = tokio::spawn(self.relay.run(relay_stop.clone()));
        let mut grpc = tokio::spawn(grpc::serve(router, listener, work.clone()));
        if let Some((reporter, _)) = &self.health {
            reporter
                .set_service_status(
                    crate::readiness::LIVENESS,
                    tonic_health::ServingStatus::Serving,
                )
                .await;
        }
        let readiness = self.health.map(|(reporter, service)| {
            let readiness = Readiness {
                reporter,
                service,
                db: self.db.clone(),
                nats: self.jetstream.client(),
                consumers: self.consuming,
            };
            tokio::spawn(readiness.run(work.clone()))
        });
        let consumers: Vec<_> = self.consumers.into_iter().map(tokio::spawn).collect();
        let tasks: Vec<_> = self
            .tasks
            .into_iter()
            .map(|(name, task)| (name, tokio::spawn(task)))
            .collect();
        let task = tokio::spawn(async move {
            let mut consumers_done = Box::pin(all_consumers(consumers, work.clone()));
            let mut tasks_done = Box::pin(all_tasks(tasks, work.clone()));
            let mut outcome: Result<(), ServiceError> = Ok(());
            let (mut grpc_done, mut consumers_finished, mut tasks_finished) = (false, false, false);
            tokio::select! {
                served = &mut grpc => {
                    grpc_done = true;
                    if let Ok(Err(error)) = served { outcome = Err(error.into()); }
                }
                consumed = &mut consumers_done => {
                    consumers_finished = true;
                    if let Err(error) = consumed { outcome = Err(error); }
                }
                ran = &mut tasks_done => {
                    tasks_finished = true;
                    if let Err(error) = ran { outcome = Err(error); }
                }
                () = shutdown.cancelled() => {}
            }
            let draining = Instant::now();
            tracing::info!(service = name, grace = ?grace, "draining");
            work.cancel();
            if let Some(mut readiness) = readiness {
                // It says NOT_SERVING as it stops; a check hung on the database is not
                // waited for.
                if tokio::time::timeout(Duration::from_millis(500), &mut readiness)
                    .await
                    .is_err()
                {
                    readiness.abort();
                }
            }
            // The work in hand gets the grace but a last share, which is the relay's: the
            // events already committed go out even if a call or a batch overran.
            let work_done = async {
                if !grpc_done {
                    let _ = (&mut grpc).await;
                }
                if !consumers_finished && let Err(error) = consumers_done.await {
                    tracing::warn!(service = name, error = %error, "a consumer failed while draining");
                }
                if !tasks_finished && let Err(error) = tasks_done.await {
                    tracing::warn!(service = name, error = %error, "a task failed while draining");
                }
            };
            let relay_share = grace / 4;
            let work_finished = tokio::time::timeout(grace - relay_share, work_done)
                .await
                .is_ok();
            relay_stop.cancel();
            let flushed = tokio::time::timeout(grace.saturating_sub(draining.elapsed()), relay)
                .await
                .is_ok();
            if work_finished && flushed {
                tracing::info!(service = name, took = ?draining.elapsed(), "drained");
            } else {
                tracing::warn!(
                    service = name,
                    grace = ?grace,
                    work_finished,
                    flushed,
                    "not drained within the grace period; what is unfinished is delivered again or swept after restart"
                );
            }
            outcome
        });
        Ok(RunningService { grpc_address, task })
    }
}

/// Ends when a consumer fails, or when all have stopped after `work` was cancelled.
async fn all_consumers(
    consumers: Vec<JoinHandle<Result<(), ConsumerError>>>,
    work: CancellationToken,
) -> Result<(), ServiceError> {
    futures::future::try_join_all(consumers.into_iter().map(|consumer| async move {
        match consumer.await {
            Ok(result) => result.map_err(ServiceError::from),
            // A consumer that died must take the service down with it, so that it is
            // restarted rather than serve without consuming.
            Err(error) => Err(ServiceError::ConsumerDied(error.to_string())),
        }
    }))
    .await?;
    work.cancelled().await;
    Ok(())
}

/// Ends when a task fails, or when all have ended and `work` was cancelled: a task that
/// finished its job early does not stop the service.
async fn all_tasks(
    tasks: Vec<(&'static str, JoinHandle<Result<(), TaskError>>)>,
    work: CancellationToken,
) -> Result<(), ServiceError> {
    futures::future::try_join_all(tasks.into_iter().map(|(name, task)| async move {
        match task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(ServiceError::Task {
                name,
                reason: error.to_string(),
            }),
            Err(error) => Err(ServiceError::Task {
                name,
                reason: error.to_string(),
            }),
        }
    }))
    .await?;
    work.cancelled().await;
    Ok(())
}
