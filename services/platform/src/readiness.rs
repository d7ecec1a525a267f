//! Whether a service can do its work, reported on gRPC health (what a Kubernetes readiness
//! probe asks): its database answers, every consumer is consuming (not waiting for a
//! stream), and the outbox relay is not stuck while the broker is connected. An outage of
//! the broker alone does not make a service unready: the outbox holds its events, and
//! intake must keep taking petitions.
//!
//! Liveness stays simple: the health service `liveness` is SERVING as long as the process
//! answers at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::outbox::entity;

/// The health service name a liveness probe asks for.
pub const LIVENESS: &str = "liveness";
/// How often readiness is checked.
const CHECK_EVERY: Duration = Duration::from_secs(2);
/// An event committed this long ago and still unpublished while the broker is connected
/// means the relay is stuck.
const RELAY_STUCK_AFTER: time::Duration = time::Duration::minutes(2);

/// One consumer's flag: set while it is consuming.
#[derive(Debug, Clone, Default)]
pub struct Consuming(Arc<AtomicBool>);

impl Consuming {
    pub fn set(&self, consuming: bool) {
        self.0.store(consuming, Ordering::Relaxed);
    }

    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What readiness looks at.
pub struct Readiness {
    pub reporter: HealthReporter,
    /// The service's gRPC name (`xinfang.intake.v1.IntakeService`).
    pub service: &'static str,
    pub db: DatabaseConnection,
    pub nats: async_nats::Client,
    pub consumers: Vec<(String, Consuming)>,
}

impl Readiness {
    /// Checks every [`CHECK_EVERY`] until `stop`, reporting the service (and the server as
    /// a whole, `""`) SERVING or NOT_SERVING, with the reason logged when it changes.
    pub async fn run(self, stop: CancellationToken) {
        let mut last: Option<Result<(), String>> = None;
        loop {
            let now = self.check().await;
            if last.as_ref() != Some(&now) {
                match &now {
                    Ok(()) => tracing::info!(service = self.service, "ready"),
                    Err(why) => tracing::warn!(service = self.service, reason = %why, "not ready"),
                }
                let status = if now.is_ok() {
                    ServingStatus::Serving
                } else {
                    ServingStatus::NotServing
                };
                self.reporter.set_service_status(self.service, status).await;
                self.reporter.set_service_status("", status).await;
                last = Some(now);
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(CHECK_EVERY) => {}
            }
        }
        // Stopping: take no more calls from the load balancer.
        self.reporter
            .set_service_status(self.service, ServingStatus::NotServing)
            .await;
        self.reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
    }

    async fn check(&self) -> Result<(), String> {
        self.db
            .ping()
            .await
            .map_err(|error| format!("database: {error}"))?;
        if let Some((name, _)) = self.consumers.iter().find(|(_, c)| !c.get()) {
            return Err(format!("consumer {name} is not consuming"));
        }
        let connected = matches!(
            self.nats.connection_state(),
            async_nats::connection::State::Connected
        );
        if connected {
            // Stuck means not moving: an event committed a while ago waits behind the newest
            // one published. An older event the broker refuses while later ones are
            // published is passed over (and logged at every sweep); it is for an operator,
            // not a reason to take every replica out of service.
            let newest_published = entity::Entity::find()
                .filter(entity::Column::PublishedAt.is_not_null())
                .order_by_desc(entity::Column::Position)
                .one(&self.db)
                .await
                .map_err(|error| format!("database: {error}"))?
                .map(|row| row.position);
            let mut waiting = entity::Entity::find()
                .filter(entity::Column::PublishedAt.is_null())
                .filter(entity::Column::StagedAt.lt(OffsetDateTime::now_utc() - RELAY_STUCK_AFTER));
            if let Some(position) = newest_published {
                waiting = waiting.filter(entity::Column::Position.gt(position));
            }
            let waiting = waiting
                .order_by_asc(entity::Column::Position)
                .one(&self.db)
                .await
                .map_err(|error| format!("database: {error}"))?;
            if let Some(row) = waiting {
                return Err(format!(
                    "outbox relay stuck: event {} committed at {} is not published",
                    row.event_id, row.staged_at
                ));
            }
        }
        Ok(())
    }
}
