//! The transactional outbox: a state change and the event it causes are written in one
//! database transaction; the [`relay`] publishes the event afterwards and marks it.
//!
//! A service calls [`stage`] inside its transaction, commits, then hands the same events to
//! [`OutboxHandle::committed`] so the relay publishes them at once. If that hint is lost (a
//! crash right after commit, a full queue, the broker away), the relay's sweep finds the
//! rows still unpublished and publishes them later: the database, not the hint, is the
//! record of what must be sent.

pub mod entity;
pub mod redrive;
pub mod relay;

use bytes::Bytes;
use sea_orm::{ActiveValue::NotSet, ConnectionTrait, DbErr, EntityTrait, Set};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;
use xinfang_proto::Event;

use crate::envelope::Envelope;

/// One event on its way out: where it goes, its envelope and its encoded payload.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingEvent {
    pub subject: String,
    pub envelope: Envelope,
    pub payload: Bytes,
}

impl OutgoingEvent {
    /// Wraps a protobuf event with a fresh event id (UUIDv7, so ids sort by creation) and
    /// the current trace context, so the consumers' work joins the same trace.
    pub fn new<E: Event>(
        subject: impl Into<String>,
        service: &str,
        case_id: Uuid,
        occurred_at: OffsetDateTime,
        event: &E,
    ) -> Self {
        Self {
            subject: subject.into(),
            envelope: Envelope {
                event_id: Uuid::now_v7(),
                event_type: E::full_name(),
                source: format!("/xinfang/{service}"),
                case_id,
                occurred_at,
                traceparent: crate::telemetry::current_traceparent(),
            },
            payload: Bytes::from(event.encode_to_vec()),
        }
    }
}

/// Writes events into the outbox, inside the caller's transaction.
pub async fn stage<C: ConnectionTrait>(db: &C, events: &[OutgoingEvent]) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let staged_at = OffsetDateTime::now_utc();
    let rows = events.iter().map(|event| entity::ActiveModel {
        position: NotSet,
        event_id: Set(event.envelope.event_id),
        subject: Set(event.subject.clone()),
        event_type: Set(event.envelope.event_type.clone()),
        case_id: Set(event.envelope.case_id),
        occurred_at: Set(crate::wire::stored(event.envelope.occurred_at)),
        staged_at: Set(staged_at),
        payload: Set(event.payload.to_vec()),
        traceparent: Set(event.envelope.traceparent.clone()),
        published_at: Set(None),
    });
    entity::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The service's side of the relay: tells it which events were just committed.
#[derive(Debug, Clone)]
pub struct OutboxHandle {
    committed: mpsc::Sender<Vec<OutgoingEvent>>,
}

impl OutboxHandle {
    /// Asks the relay to publish events whose transaction has committed. Never waits: when
    /// the relay is behind, the hint is dropped and the sweep publishes the rows instead.
    pub fn committed(&self, events: Vec<OutgoingEvent>) {
        if events.is_empty() {
            return;
        }
        if self.committed.try_send(events).is_err() {
            tracing::debug!("outbox relay busy; the sweep will publish these events");
        }
    }
}
