//! Publishes committed outbox rows to JetStream and marks each once the broker acknowledged
//! it (a duplicate acknowledgement counts: the broker already has the event).

use std::future::IntoFuture;
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use futures::future::join_all;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{OutboxHandle, OutgoingEvent, entity};
use crate::config::OutboxConfig;
use crate::envelope::Envelope;

/// How many committed batches may wait for the relay before hints are dropped.
const HINT_QUEUE: usize = 4096;
/// How often published rows older than the retention period are deleted.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

pub struct OutboxRelay {
    db: DatabaseConnection,
    jetstream: jetstream::Context,
    config: OutboxConfig,
    /// `ce-source` of the events read back from the table: `/xinfang/<service>`.
    source: String,
    committed: mpsc::Receiver<Vec<OutgoingEvent>>,
}

/// Creates the relay and the handle the service uses to hint it.
pub fn outbox_relay(
    db: DatabaseConnection,
    jetstream: jetstream::Context,
    config: OutboxConfig,
    service: &str,
) -> (OutboxRelay, OutboxHandle) {
    let (sender, committed) = mpsc::channel(HINT_QUEUE);
    let source = format!("/xinfang/{service}");
    (
        OutboxRelay {
            db,
            jetstream,
            config,
            source,
            committed,
        },
        OutboxHandle { committed: sender },
    )
}

impl OutboxRelay {
    /// Runs until `stop`: publishes hinted batches as they come, sweeps for anything left
    /// unpublished, and prunes rows past retention. Starts with a sweep, which picks up
    /// whatever a previous run committed but did not publish. On `stop` it flushes: every
    /// committed row is published (if the broker answers) before it returns.
    pub async fn run(mut self, stop: CancellationToken) {
        let mut sweep = tokio::time::interval(self.config.sweep_interval);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut prune = tokio::time::interval(RETENTION_INTERVAL);
        prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => {
                    self.flush().await;
                    break;
                }
                _ = sweep.tick() => {
                    let cutoff = OffsetDateTime::now_utc() - self.config.sweep_interval;
                    if let Err(error) = self.sweep(cutoff).await {
                        tracing::warn!(error = %error, "outbox sweep failed; retrying next interval");
                    }
                }
                _ = prune.tick() => {
                    if let Err(error) = self.prune().await {
                        tracing::warn!(error = %error, "outbox pruning failed");
                    }
                }
                // Last: under sustained load hints are always ready, and the sweep (which
                // publishes rows whose hint was dropped) must still get its turn.
                Some(mut events) = self.committed.recv() => {
                    while events.len() < self.config.batch_size as usize {
                        match self.committed.try_recv() {
                            Ok(more) => events.extend(more),
                            Err(_) => break,
                        }
                    }
                    self.publish(events).await;
                }
            }
        }
        tracing::info!("outbox relay stopped");
    }

    /// Publishes what is hinted, then every row still unpublished, so that a stopping
    /// service leaves nothing behind for the next start's sweep.
    async fn flush(&mut self) {
        let mut hinted = Vec::new();
        while let Ok(events) = self.committed.try_recv() {
            hinted.extend(events);
        }
        for events in hinted.chunks(self.config.batch_size as usize) {
            self.publish(events.to_vec()).await;
        }
        // Everything committed so far: a second in the future covers clock steps.
        let cutoff = OffsetDateTime::now_utc() + std::time::Duration::from_secs(1);
        match self.sweep(cutoff).await {
            Ok(()) => tracing::info!("outbox flushed"),
            Err(error) => {
                tracing::warn!(error = %error, "outbox not flushed; the next start publishes the rest")
            }
        }
    }

    /// Publishes every unpublished row staged before `cutoff`, oldest first, a batch at a
    /// time, until none is left or the broker stops answering. A row the broker refuses is
    /// passed over (it is tried again next sweep), so it cannot hold back the rows after it.
    async fn sweep(&self, cutoff: OffsetDateTime) -> Result<(), DbErr> {
        let mut after = None;
        loop {
            let mut query = entity::Entity::find()
                .filter(entity::Column::PublishedAt.is_null())
                .filter(entity::Column::StagedAt.lt(cutoff));
            if let Some(position) = after {
                query = query.filter(entity::Column::Position.gt(position));
            }
            let rows = query
                .order_by_asc(entity::Column::Position)
                .limit(self.config.batch_size)
                .all(&self.db)
                .await?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            after = Some(last.position);
            let full_batch = rows.len() as u64 == self.config.batch_size;
            let events: Vec<OutgoingEvent> = rows
                .into_iter()
                .map(|row| event_from_row(row, &self.source))
                .collect();
            let published = self.publish(events).await;
            if !full_batch || published == 0 {
                return Ok(());
            }
        }
    }

    /// Sends the batch in order without waiting between messages, then waits for every
    /// acknowledgement and marks the acknowledged rows. Returns how many were marked.
    async fn publish(&self, events: Vec<OutgoingEvent>) -> usize {
        if events.is_empty() {
            return 0;
        }
        let mut pending = Vec::with_capacity(events.len());
        for event in &events {
            let message = PublishMessage::build()
                .payload(event.payload.clone())
                .headers(event.envelope.to_headers());
            match self
                .jetstream
                .send_publish(event.subject.clone(), message)
                .await
            {
                Ok(ack) => pending.push((event.envelope.event_id, ack)),
                // The client would not send it (larger than the server takes, say): the rows
                // after it still go, and the sweep tries this one again.
                Err(error) => {
                    tracing::warn!(error = %error, event = %event.envelope.event_id, subject = %event.subject, "publish failed; the sweep will retry");
                }
            }
        }
        let (ids, acks): (Vec<Uuid>, Vec<_>) = pending.into_iter().unzip();
        let acknowledged: Vec<Uuid> = ids
            .into_iter()
            .zip(join_all(acks.into_iter().map(IntoFuture::into_future)).await)
            .filter_map(|(id, ack)| match ack {
                Ok(_) => Some(id),
                Err(error) => {
                    tracing::warn!(error = %error, event = %id, "no acknowledgement; the sweep will retry");
                    None
                }
            })
            .collect();
        let count = acknowledged.len();
        if count == 0 {
            return 0;
        }
        let marked = entity::Entity::update_many()
            .col_expr(
                entity::Column::PublishedAt,
                Expr::value(OffsetDateTime::now_utc()),
            )
            .filter(entity::Column::EventId.is_in(acknowledged))
            .exec(&self.db)
            .await;
        match marked {
            Ok(_) => {
                metrics::counter!("xinfang_events_published_total", "source" => self.source.clone())
                    .increment(count as u64);
                tracing::debug!(count, "outbox events published");
                count
            }
            Err(error) => {
                // The broker has the events; publishing them again is absorbed by its
                // duplicate window and by every consumer's inbox.
                tracing::warn!(error = %error, "published events not marked; they will be published again");
                0
            }
        }
    }

    async fn prune(&self) -> Result<(), DbErr> {
        let cutoff = OffsetDateTime::now_utc() - self.config.retention;
        let deleted = entity::Entity::delete_many()
            .filter(entity::Column::PublishedAt.lt(cutoff))
            .exec(&self.db)
            .await?;
        if deleted.rows_affected > 0 {
            tracing::info!(
                rows = deleted.rows_affected,
                "pruned published outbox rows past retention"
            );
        }
        Ok(())
    }
}

/// An outbox row as the event it holds; `source` is `/xinfang/<service>`.
pub(crate) fn event_from_row(row: entity::Model, source: &str) -> OutgoingEvent {
    OutgoingEvent {
        subject: row.subject,
        envelope: Envelope {
            event_id: row.event_id,
            event_type: row.event_type,
            source: source.to_owned(),
            case_id: row.case_id,
            occurred_at: row.occurred_at,
            traceparent: row.traceparent,
        },
        payload: Bytes::from(row.payload),
    }
}
