//! The JetStream consume loop every consuming service runs: a durable pull consumer with
//! explicit acknowledgement, each event applied once (the inbox), poison set aside on a
//! dead-letter subject with the reason.
//!
//! A service supplies a [`Handler`]: `decode` turns the payload into its own closed enum at
//! the edge, `apply` does the effect inside the transaction this loop opens, and may return
//! events of its own, which are staged in the outbox in that same transaction.

pub mod inbox;

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use bytes::Bytes;
use futures::StreamExt;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, TransactionTrait,
};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use xinfang_proto::subjects::{self, StreamSpec};

use crate::config::NatsConfig;
use crate::envelope::{DEAD_LETTER_REASON, Envelope};
use crate::jetstream::{JetStreamError, ensure_stream};
use crate::outbox::{self, OutboxHandle, OutgoingEvent};

/// How long the broker waits for an acknowledgement before delivering again: after a
/// crash, what the dead process held comes back this much later. Events are applied in
/// milliseconds, so it only has to cover the prefetched batch.
const ACK_WAIT: Duration = Duration::from_secs(10);
/// How many messages are fetched ahead of the one in hand; all of them must be applied
/// within [`ACK_WAIT`].
const PREFETCH: usize = 64;
/// The longest wait before a failed event is delivered again.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// Which events a consumer takes, and how patiently it retries.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// The durable consumer's name, also its inbox key and its dead-letter subject token.
    pub name: String,
    pub stream: StreamSpec,
    pub filter_subjects: Vec<String>,
    /// Deliveries before an event that keeps failing is dead-lettered.
    pub max_deliver: i64,
    /// The first retry's delay; each further retry waits twice as long (up to a minute).
    pub retry_delay: Duration,
}

impl ConsumerSpec {
    /// The settings every service's consumers share: 10 deliveries, the first retry after
    /// half a second.
    pub fn from_binding(binding: subjects::ConsumerBinding) -> Self {
        Self {
            name: binding.name.to_owned(),
            stream: binding.stream,
            filter_subjects: vec![binding.filter.to_owned()],
            max_deliver: 10,
            retry_delay: Duration::from_millis(500),
        }
    }
}

/// Why an event was not applied.
#[derive(Debug)]
pub enum Failure {
    /// It can never be applied (it contradicts what the service knows): dead-letter it now.
    Poison(String),
    /// Its case is not known here yet: events of one case can arrive out of order across
    /// streams, so retry, and dead-letter with the reason `unknown case` on the last delivery.
    UnknownCase,
    /// Something passing (the database away): retry later.
    Transient(String),
}

impl From<DbErr> for Failure {
    fn from(error: DbErr) -> Self {
        Failure::Transient(format!("database: {error}"))
    }
}

/// Decodes a payload as `E` if the envelope says it is one; the error is the dead-letter
/// reason (`unknown event type …`, `undecodable …`).
pub fn decode_event<E: xinfang_proto::Event>(
    envelope: &Envelope,
    payload: &[u8],
) -> Result<E, String> {
    if envelope.event_type != E::TYPE {
        return Err(format!("unknown event type {}", envelope.event_type));
    }
    E::decode(payload).map_err(|error| format!("undecodable {}: {error}", E::TYPE))
}

/// The case id an event names, which must be the envelope's `ce-subject`.
pub fn event_case_id(case_id: &str, envelope: &Envelope) -> Result<uuid::Uuid, String> {
    let parsed =
        uuid::Uuid::parse_str(case_id).map_err(|_| format!("case_id {case_id:?} is not a UUID"))?;
    if parsed == envelope.case_id {
        Ok(parsed)
    } else {
        Err(format!(
            "case_id {parsed} differs from ce-subject {}",
            envelope.case_id
        ))
    }
}

pub trait Handler: Send + Sync + 'static {
    /// The service's closed enum of the events it consumes.
    type Event: Send;

    /// Decodes a payload by its type; an error is the dead-letter reason.
    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Self::Event, String>;

    /// Applies the event inside `transaction`; returns the events it causes.
    fn apply(
        &self,
        transaction: &DatabaseTransaction,
        envelope: &Envelope,
        event: Self::Event,
    ) -> impl Future<Output = Result<Vec<OutgoingEvent>, Failure>> + Send;
}

pub struct Consumer<H> {
    pub db: DatabaseConnection,
    pub jetstream: jetstream::Context,
    pub spec: ConsumerSpec,
    pub handler: H,
    /// Where to hint events the handler caused; `None` for a service that publishes nothing.
    pub outbox: Option<OutboxHandle>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error(transparent)]
    Stream(#[from] JetStreamError),
    #[error("consumer {name}: {reason}")]
    Consumer { name: String, reason: String },
}

enum Applied {
    Now(Vec<OutgoingEvent>),
    Before,
}

impl<H: Handler> Consumer<H> {
    /// Declares the dead-letter stream and the durable consumer, then handles messages one
    /// at a time until `shutdown`; the message in hand is finished first.
    pub async fn run(
        self,
        nats: &NatsConfig,
        shutdown: CancellationToken,
    ) -> Result<(), ConsumerError> {
        ensure_stream(&self.jetstream, subjects::DEAD_LETTER_STREAM, nats).await?;
        let failed = |reason: String| ConsumerError::Consumer {
            name: self.spec.name.clone(),
            reason,
        };
        let Some(stream) = self.wait_for_stream(&shutdown).await else {
            return Ok(());
        };
        let exhausted = tokio::spawn(set_aside_exhausted(
            self.jetstream.clone(),
            self.spec.stream.name,
            self.spec.name.clone(),
            shutdown.clone(),
        ));
        let consumer = stream
            .get_or_create_consumer(
                &self.spec.name,
                pull::Config {
                    durable_name: Some(self.spec.name.clone()),
                    filter_subjects: self.spec.filter_subjects.clone(),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: ACK_WAIT,
                    max_deliver: self.spec.max_deliver,
                    ..Default::default()
                },
            )
            .await
            .map_err(|error| failed(format!("create consumer: {error}")))?;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(PREFETCH)
            .messages()
            .await
            .map_err(|error| failed(format!("pull: {error}")))?;
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                next = messages.next() => match next {
                    Some(Ok(message)) => self.handle(message).await,
                    Some(Err(error)) => tracing::warn!(consumer = %self.spec.name, error = %error, "pull failed; retrying"),
                    None => {
                        exhausted.abort();
                        return Err(failed("the message stream ended".into()));
                    }
                }
            }
        }
        exhausted.abort();
        tracing::info!(consumer = %self.spec.name, "consumer stopped");
        Ok(())
    }

    /// The stream belongs to the service that publishes into it, which may not have
    /// started yet: wait for it rather than create it with another's settings.
    async fn wait_for_stream(
        &self,
        shutdown: &CancellationToken,
    ) -> Option<jetstream::stream::Stream> {
        let mut waited = 0u32;
        loop {
            match self.jetstream.get_stream(self.spec.stream.name).await {
                Ok(stream) => return Some(stream),
                Err(error) => {
                    if waited.is_multiple_of(10) {
                        tracing::info!(consumer = %self.spec.name, stream = self.spec.stream.name, error = %error, "waiting for the stream to exist");
                    }
                    waited += 1;
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return None,
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    async fn handle(&self, message: jetstream::Message) {
        let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
        let last_attempt = delivered >= self.spec.max_deliver;
        let envelope = match Envelope::from_headers(message.headers.as_ref()) {
            Ok(envelope) => envelope,
            Err(error) => {
                return self
                    .dead_letter(&message, &format!("unreadable envelope: {error}"))
                    .await;
            }
        };
        let event = match self.handler.decode(&envelope, &message.payload) {
            Ok(event) => event,
            Err(reason) => return self.dead_letter(&message, &reason).await,
        };
        let span = tracing::info_span!(
            "consume",
            consumer = %self.spec.name,
            event = %envelope.event_type,
            case = %envelope.case_id
        );
        crate::telemetry::continue_trace(&span, envelope.traceparent.as_deref());
        let applied = self.apply(&envelope, event).instrument(span).await;
        let consumer = self.spec.name.clone();
        match applied {
            Ok(applied) => {
                let outcome = match applied {
                    Applied::Now(_) => "applied",
                    Applied::Before => "duplicate",
                };
                metrics::counter!("xinfang_events_consumed_total", "consumer" => consumer, "outcome" => outcome).increment(1);
                if let Err(error) = message.double_ack().await {
                    // Applied and committed: a redelivery is absorbed by the inbox.
                    tracing::warn!(event = %envelope.event_id, error = %error, "acknowledgement lost");
                }
                if let (Applied::Now(events), Some(outbox)) = (applied, &self.outbox)
                    && !events.is_empty()
                {
                    outbox.committed(events);
                }
            }
            Err(Failure::Poison(reason)) => self.dead_letter(&message, &reason).await,
            Err(Failure::UnknownCase) if last_attempt => {
                self.dead_letter(&message, "unknown case").await
            }
            Err(Failure::Transient(reason)) if last_attempt => {
                self.dead_letter(
                    &message,
                    &format!("gave up after {delivered} deliveries: {reason}"),
                )
                .await
            }
            Err(failure) => {
                metrics::counter!("xinfang_events_consumed_total", "consumer" => consumer, "outcome" => "retried").increment(1);
                tracing::debug!(event = %envelope.event_id, delivered, ?failure, "event will be retried");
                let _ = message
                    .ack_with(AckKind::Nak(Some(self.retry_delay(delivered))))
                    .await;
            }
        }
    }

    /// Records the event in the inbox and applies it, in one transaction. An event id
    /// already in the inbox was applied before: nothing more happens.
    async fn apply(&self, envelope: &Envelope, event: H::Event) -> Result<Applied, Failure> {
        let transaction = self.db.begin().await?;
        let recorded = inbox::Entity::insert(inbox::ActiveModel {
            consumer: Set(self.spec.name.clone()),
            event_id: Set(envelope.event_id),
            applied_at: Set(OffsetDateTime::now_utc()),
        })
        .on_conflict(
            OnConflict::columns([inbox::Column::Consumer, inbox::Column::EventId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&transaction)
        .await?;
        if recorded == 0 {
            transaction.rollback().await?;
            return Ok(Applied::Before);
        }
        let events = self.handler.apply(&transaction, envelope, event).await?;
        outbox::stage(&transaction, &events).await?;
        transaction.commit().await?;
        Ok(Applied::Now(events))
    }

    /// Publishes the message, with the reason, to this consumer's dead-letter subject and
    /// stops its redelivery. If the dead-letter stream does not acknowledge, the message is
    /// left to be delivered again rather than dropped.
    async fn dead_letter(&self, message: &jetstream::Message, reason: &str) {
        tracing::warn!(consumer = %self.spec.name, subject = %message.subject, reason, "dead-lettering a message");
        metrics::counter!("xinfang_events_dead_lettered_total", "consumer" => self.spec.name.clone())
            .increment(1);
        let mut headers = message.headers.clone().unwrap_or_default();
        headers.insert(DEAD_LETTER_REASON, reason);
        headers.insert("xinfang-dead-letter-subject", message.subject.as_str());
        let sequence = message
            .info()
            .map(|info| info.stream_sequence)
            .unwrap_or_default();
        // One id per consumer and stream position: the dead-letter stream drops a repeat of
        // the same set-aside, never another consumer's.
        let id = dead_letter_id(&self.spec.name, self.spec.stream.name, sequence);
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
        let published = self
            .jetstream
            .publish_with_headers(
                subjects::dead_letter_subject(&self.spec.name),
                headers,
                Bytes::clone(&message.payload),
            )
            .await;
        let acknowledged = match published {
            Ok(ack) => ack.await.map(|_| ()).map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match acknowledged {
            Ok(()) => {
                let _ = message.double_ack_with(AckKind::Term).await;
            }
            Err(error) => {
                tracing::error!(consumer = %self.spec.name, error = %error, "dead-letter publish failed; will retry");
                let _ = message
                    .ack_with(AckKind::Nak(Some(self.spec.retry_delay)))
                    .await;
            }
        }
    }

    fn retry_delay(&self, delivered: i64) -> Duration {
        let doublings = u32::try_from(delivered.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
        self.spec
            .retry_delay
            .saturating_mul(1 << doublings)
            .min(MAX_RETRY_DELAY)
    }
}

/// One id per consumer and stream position: the dead-letter stream drops a repeat of the
/// same set-aside (by the consumer itself and by [`set_aside_exhausted`]), never another
/// consumer's.
fn dead_letter_id(consumer: &str, stream: &str, sequence: u64) -> String {
    format!("{consumer}:{stream}:{sequence}")
}

#[derive(serde::Deserialize)]
struct MaxDeliveriesAdvisory {
    stream_seq: u64,
    deliveries: u64,
}

/// Catches what ran out of deliveries without the consumer setting it aside itself (its
/// process died while handling it, every time): the server's MAX_DELIVERIES advisory names
/// the stream position; the message is read back and published to the consumer's
/// dead-letter subject with the reason. Runs until `shutdown`.
pub async fn set_aside_exhausted(
    jetstream: jetstream::Context,
    stream: &'static str,
    consumer: String,
    shutdown: CancellationToken,
) {
    let advisories = format!("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{consumer}");
    let client = jetstream.client();
    let mut subscription = match client.subscribe(advisories.clone()).await {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::error!(%consumer, error = %error, "cannot watch max-deliveries advisories");
            return;
        }
    };
    loop {
        let advisory = tokio::select! {
            () = shutdown.cancelled() => return,
            next = subscription.next() => match next {
                Some(message) => message,
                None => return,
            },
        };
        let Ok(advisory) = serde_json::from_slice::<MaxDeliveriesAdvisory>(&advisory.payload)
        else {
            tracing::warn!(%consumer, "unreadable max-deliveries advisory");
            continue;
        };
        let sequence = advisory.stream_seq;
        let stored = match jetstream.get_stream(stream).await {
            Ok(handle) => handle
                .get_raw_message(sequence)
                .await
                .map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        let stored = match stored {
            Ok(stored) => stored,
            Err(error) => {
                tracing::error!(%consumer, sequence, error = %error, "an exhausted message could not be read back");
                continue;
            }
        };
        let reason = format!(
            "delivered {} times without being applied (max deliveries)",
            advisory.deliveries
        );
        tracing::warn!(%consumer, sequence, subject = %stored.subject, "dead-lettering an exhausted message");
        let mut headers = stored.headers.clone();
        headers.insert(DEAD_LETTER_REASON, reason.as_str());
        headers.insert("xinfang-dead-letter-subject", stored.subject.as_str());
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            dead_letter_id(&consumer, stream, sequence).as_str(),
        );
        let published = jetstream
            .publish_with_headers(
                subjects::dead_letter_subject(&consumer),
                headers,
                stored.payload.clone(),
            )
            .await;
        let acknowledged = match published {
            Ok(ack) => ack.await.map(|_| ()).map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = acknowledged {
            tracing::error!(%consumer, sequence, error = %error, "an exhausted message could not be dead-lettered");
        }
    }
}
