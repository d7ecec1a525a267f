//! Publishing a time range of the outbox again, for the acknowledged events a broker can
//! lose (a power cut with JetStream's fsync on an interval, a restored stream). Every
//! event goes out with its original id; the broker's duplicate window and every consumer's
//! inbox absorb what was already there, so a redrive can be repeated safely.

use std::future::IntoFuture;

use async_nats::jetstream::{self, message::PublishMessage};
use futures::future::join_all;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use time::OffsetDateTime;

use super::entity;
use super::relay::event_from_row;

const BATCH: u64 = 256;

#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error("read the outbox: {0}")]
    Database(#[from] DbErr),
    #[error("publish event {event} on {subject}: {reason}")]
    Publish {
        event: uuid::Uuid,
        subject: String,
        reason: String,
    },
    #[error("the range is empty: {from} is not before {to}")]
    EmptyRange {
        from: OffsetDateTime,
        to: OffsetDateTime,
    },
}

/// Publishes every outbox event that occurred in `[from, to)`, published before or not,
/// oldest first, and waits for the broker to acknowledge each. Returns how many went out.
pub async fn redrive(
    db: &DatabaseConnection,
    jetstream: &jetstream::Context,
    service: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<u64, RedriveError> {
    if from >= to {
        return Err(RedriveError::EmptyRange { from, to });
    }
    let source = format!("/xinfang/{service}");
    let mut after = i64::MIN;
    let mut total = 0;
    loop {
        let rows = entity::Entity::find()
            .filter(entity::Column::OccurredAt.gte(crate::wire::stored(from)))
            .filter(entity::Column::OccurredAt.lt(crate::wire::stored(to)))
            .filter(entity::Column::Position.gt(after))
            .order_by_asc(entity::Column::Position)
            .limit(BATCH)
            .all(db)
            .await?;
        let Some(last) = rows.last() else {
            return Ok(total);
        };
        after = last.position;
        let mut pending = Vec::with_capacity(rows.len());
        for row in rows {
            let event = event_from_row(row, &source);
            let message = PublishMessage::build()
                .payload(event.payload.clone())
                .headers(event.envelope.to_headers());
            let failed = |reason: String| RedriveError::Publish {
                event: event.envelope.event_id,
                subject: event.subject.clone(),
                reason,
            };
            let ack = jetstream
                .send_publish(event.subject.clone(), message)
                .await
                .map_err(|error| failed(error.to_string()))?;
            pending.push((event.envelope.event_id, event.subject.clone(), ack));
        }
        let (ids, rest): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .map(|(id, subject, ack)| (id, (subject, ack)))
            .unzip();
        let (subjects, acks): (Vec<_>, Vec<_>) = rest.into_iter().unzip();
        let results = join_all(acks.into_iter().map(IntoFuture::into_future)).await;
        for ((event, subject), result) in ids.into_iter().zip(subjects).zip(results) {
            result.map_err(|error| RedriveError::Publish {
                event,
                subject,
                reason: error.to_string(),
            })?;
            total += 1;
        }
    }
}
