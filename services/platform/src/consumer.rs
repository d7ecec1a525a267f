//! The JetStream consume loop every consuming service runs: a durable pull consumer with
//! explicit acknowledgement, events applied in batches through the write path (one
//! transaction per batch, each event once thanks to the inbox), poison set aside on a
//! dead-letter subject with the reason.
//!
//! A service supplies a [`Handler`]: `decode` turns the payload into its own closed enum at
//! the edge, `change` says which [`Change`] the event asks for; [`batch`] runs the changes.

pub mod batch;
pub mod dead_letters;
pub mod exhausted;
pub mod inbox;

use std::collections::VecDeque;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use sea_orm::{DatabaseConnection, DbErr};
use tokio_util::sync::CancellationToken;
use xinfang_proto::subjects::{self, StreamSpec};

use crate::config::{ConsumerConfig, NatsConfig};
use crate::envelope::{DEAD_LETTER_REASON, Envelope};
use crate::jetstream::{JetStreamError, ensure_stream};
use crate::outbox::OutboxHandle;
use crate::readiness::Consuming;
use crate::write::{Change, Clock};

pub use exhausted::set_aside_exhausted;

use batch::{Item, Verdict};

/// How long the broker waits for an acknowledgement before delivering again: after a
/// crash, what the dead process held comes back this much later. It covers the batch in
/// hand and the one prefetched behind it.
const ACK_WAIT: Duration = Duration::from_secs(10);
/// How often a paused consumer asks whether its database answers again.
const DATABASE_PROBE_INTERVAL: Duration = Duration::from_secs(1);
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
#[derive(Debug, Clone)]
pub enum Failure {
    /// It can never be applied (it contradicts what the service knows): dead-letter it now.
    Poison(String),
    /// Its case is not known here yet: events of one case can arrive out of order across
    /// streams, so retry, and dead-letter with the reason `unknown case` on the last delivery.
    UnknownCase,
    /// Something about this event failed that may pass (a statement the database refused):
    /// retry it later, without holding up the rest of its batch.
    Transient(String),
    /// The database cannot be reached: nothing in the batch can be applied now.
    Unavailable(String),
}

impl From<DbErr> for Failure {
    fn from(error: DbErr) -> Self {
        if crate::database::is_unavailable(&error) {
            Failure::Unavailable(format!("database: {error}"))
        } else {
            Failure::Transient(format!("database: {error}"))
        }
    }
}

/// Decodes a payload as `E` if the envelope says it is one; the error is the dead-letter
/// reason (`unknown event type …`, `undecodable …`).
pub fn decode_event<E: xinfang_proto::Event>(
    envelope: &Envelope,
    payload: &[u8],
) -> Result<E, String> {
    if envelope.event_type != E::full_name() {
        return Err(format!("unknown event type {}", envelope.event_type));
    }
    E::decode(payload).map_err(|error| format!("undecodable {}: {error}", E::full_name()))
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
    type Event: Send + Sync;
    /// The state change an event asks for.
    type Change: Change<Error = Failure>;

    /// Decodes a payload by its type; an error is the dead-letter reason.
    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Self::Event, String>;

    /// The change `event` asks for; the write path loads, decides and saves it.
    fn change(&self, envelope: &Envelope, event: &Self::Event) -> Self::Change;
}

pub struct Consumer<H> {
    pub db: DatabaseConnection,
    pub jetstream: jetstream::Context,
    pub spec: ConsumerSpec,
    pub handler: H,
    /// Where to hint events the handler caused; `None` for a service that publishes nothing.
    pub outbox: Option<OutboxHandle>,
    pub batching: ConsumerConfig,
    pub clock: Clock,
    /// Set while consuming: what readiness reports.
    pub consuming: Consuming,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error(transparent)]
    Stream(#[from] JetStreamError),
    #[error("consumer {name}: {reason}")]
    Consumer { name: String, reason: String },
}

impl<H: Handler> Consumer<H> {
    /// Declares the dead-letter stream and the durable consumer, then applies batches until
    /// `shutdown`. The batch in hand is finished first; what was prefetched behind it is
    /// handed back to the broker at once, for another replica (or the next start).
    pub async fn run(
        self,
        nats: &NatsConfig,
        shutdown: CancellationToken,
    ) -> Result<(), ConsumerError> {
        // Where set-aside messages and max-deliveries notices go. The operator declares
        // them; a service's NATS user may not create them (a compromised service could
        // otherwise create them with limits that erase dead letters), so on a server that
        // checks users the consumer waits for them.
        for spec in [subjects::DEAD_LETTER_STREAM, subjects::ADVISORY_STREAM] {
            if let Err(error) = ensure_stream(&self.jetstream, spec, nats).await {
                tracing::warn!(consumer = %self.spec.name, stream = spec.name, error = %error, "waiting for the operator to declare the stream (xinfang streams declare)");
                if self.wait_for_stream(spec.name, &shutdown).await.is_none() {
                    return Ok(());
                }
            }
        }
        let failed = |reason: String| ConsumerError::Consumer {
            name: self.spec.name.clone(),
            reason,
        };
        let Some(stream) = self.wait_for_stream(self.spec.stream.name, &shutdown).await else {
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
        let mut messages = Some(self.pull(&consumer).await.map_err(failed)?);
        self.consuming.set(true);
        // Messages held through a database outage, applied before anything new is pulled.
        let mut held: VecDeque<jetstream::Message> = VecDeque::new();
        let ended = loop {
            let batch = if held.is_empty() {
                let pulling = match messages.as_mut() {
                    Some(pulling) => pulling,
                    // Resuming after a pause: not if the service is stopping meanwhile.
                    None if shutdown.is_cancelled() => break None,
                    None => messages.insert(self.pull(&consumer).await.map_err(failed)?),
                };
                match self.next_batch(pulling, &shutdown).await {
                    Ok(Some(batch)) => batch,
                    Ok(None) => break None,
                    Err(reason) => break Some(failed(reason)),
                }
            } else {
                let size = held.len().min(self.batching.batch_size);
                held.drain(..size).collect()
            };
            let Some(unapplied) = self.handle(batch).await else {
                continue;
            };
            // The database is unreachable. Pause: stop pulling, hold what was delivered
            // (keeping it ours with progress acknowledgements, so the outage uses up no
            // delivery), and apply it once the database answers again. Dead letters are
            // for messages that are wrong, not for a database that is down.
            let mut paused: Vec<jetstream::Message> = unapplied;
            paused.extend(held.drain(..));
            if let Some(mut pulling) = messages.take() {
                while let Some(Some(Ok(message))) = pulling.next().now_or_never() {
                    paused.push(message);
                }
            }
            if !self.wait_for_database(&paused, &shutdown).await {
                for message in &paused {
                    let _ = message.ack_with(AckKind::Nak(None)).await;
                }
                break None;
            }
            held.extend(paused);
        };
        self.consuming.set(false);
        exhausted.abort();
        // Prefetched but not started: hand it back now rather than after the ack wait.
        let mut released = 0;
        if let Some(mut pulling) = messages {
            while let Some(Some(Ok(message))) = pulling.next().now_or_never() {
                let _ = message.ack_with(AckKind::Nak(None)).await;
                released += 1;
            }
        }
        let _ = self.jetstream.client().flush().await;
        match ended {
            Some(error) => Err(error),
            None => {
                tracing::info!(consumer = %self.spec.name, released, "consumer stopped");
                Ok(())
            }
        }
    }

    /// Pulls with two batches' worth in flight: one being applied, the next arriving.
    async fn pull(
        &self,
        consumer: &jetstream::consumer::PullConsumer,
    ) -> Result<pull::Stream, String> {
        consumer
            .stream()
            .max_messages_per_batch(self.batching.batch_size.saturating_mul(2))
            .messages()
            .await
            .map_err(|error| format!("pull: {error}"))
    }

    /// The next batch: the first message to arrive, and what follows it within the linger,
    /// up to the batch size. `None` on shutdown; an error when the message stream ended.
    async fn next_batch(
        &self,
        messages: &mut pull::Stream,
        shutdown: &CancellationToken,
    ) -> Result<Option<Vec<jetstream::Message>>, String> {
        let first = loop {
            let next = tokio::select! {
                biased;
                () = shutdown.cancelled() => return Ok(None),
                next = messages.next() => next,
            };
            match next {
                Some(Ok(message)) => break message,
                Some(Err(error)) => {
                    tracing::warn!(consumer = %self.spec.name, error = %error, "pull failed; retrying");
                }
                None => return Err("the message stream ended".into()),
            }
        };
        let mut batch = vec![first];
        let linger = tokio::time::sleep(self.batching.linger);
        tokio::pin!(linger);
        while batch.len() < self.batching.batch_size {
            tokio::select! {
                biased;
                next = messages.next() => match next {
                    Some(Ok(message)) => batch.push(message),
                    Some(Err(error)) => tracing::warn!(consumer = %self.spec.name, error = %error, "pull failed; retrying"),
                    None => break,
                },
                () = &mut linger => break,
            }
        }
        Ok(Some(batch))
    }

    /// Waits until the database answers, keeping `held` from being delivered again
    /// meanwhile. False when shutdown came first.
    async fn wait_for_database(
        &self,
        held: &[jetstream::Message],
        shutdown: &CancellationToken,
    ) -> bool {
        let consumer = self.spec.name.clone();
        tracing::warn!(%consumer, held = held.len(), "database unreachable: consumer paused");
        metrics::gauge!("xinfang_consumer_paused", "consumer" => consumer.clone()).set(1.0);
        let mut progress = tokio::time::interval(ACK_WAIT / 3);
        let answered = loop {
            tokio::select! {
                () = shutdown.cancelled() => break false,
                _ = progress.tick() => {
                    for message in held {
                        let _ = message.ack_with(AckKind::Progress).await;
                    }
                }
                () = tokio::time::sleep(DATABASE_PROBE_INTERVAL) => {
                    let ping = tokio::time::timeout(DATABASE_PROBE_INTERVAL, self.db.ping()).await;
                    if matches!(ping, Ok(Ok(()))) {
                        break true;
                    }
                }
            }
        };
        metrics::gauge!("xinfang_consumer_paused", "consumer" => consumer.clone()).set(0.0);
        if answered {
            tracing::info!(%consumer, "database answers again: consumer resumed");
        }
        answered
    }

    /// The stream belongs to the service that publishes into it, which may not have
    /// started yet: wait for it rather than create it with another's settings.
    async fn wait_for_stream(
        &self,
        name: &str,
        shutdown: &CancellationToken,
    ) -> Option<jetstream::stream::Stream> {
        let mut waited = 0u32;
        loop {
            match self.jetstream.get_stream(name).await {
                Ok(stream) => return Some(stream),
                Err(error) => {
                    if waited.is_multiple_of(10) {
                        tracing::info!(consumer = %self.spec.name, stream = name, error = %error, "waiting for the stream to exist");
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

    /// Decodes a batch, sets poison aside, applies the rest in one transaction, then
    /// acknowledges what was applied (or was applied before) with one round trip, and
    /// sends each failure down its own retry or dead-letter path. When the database cannot
    /// be reached, nothing is acknowledged or refused: the messages come back to be held.
    async fn handle(&self, batch: Vec<jetstream::Message>) -> Option<Vec<jetstream::Message>> {
        let mut messages = Vec::with_capacity(batch.len());
        let mut items = Vec::with_capacity(batch.len());
        for message in batch {
            let envelope = match Envelope::from_headers(message.headers.as_ref()) {
                Ok(envelope) => envelope,
                Err(error) => {
                    self.dead_letter(&message, &format!("unreadable envelope: {error}"))
                        .await;
                    continue;
                }
            };
            match self.handler.decode(&envelope, &message.payload) {
                Ok(event) => {
                    items.push(Item::new(&self.spec.name, envelope, event));
                    messages.push(message);
                }
                Err(reason) => self.dead_letter(&message, &reason).await,
            }
        }
        if items.is_empty() {
            return None;
        }
        let verdicts = batch::apply(
            &self.db,
            &self.spec.name,
            &self.handler,
            &items,
            self.clock.now(),
        )
        .await;
        let verdicts = match verdicts {
            Ok(verdicts) => verdicts,
            Err(Failure::Unavailable(_)) => return Some(messages),
            Err(failure) => {
                tracing::warn!(consumer = %self.spec.name, ?failure, size = items.len(), "batch not applied; it will be retried");
                vec![Verdict::Failed(failure); items.len()]
            }
        };
        let mut caused = Vec::new();
        let mut acknowledged = 0u64;
        let mut duplicates = 0u64;
        for (message, verdict) in messages.iter().zip(verdicts.iter()) {
            match verdict {
                Verdict::Applied(events) => {
                    caused.extend(events.iter().cloned());
                    acknowledged += 1;
                }
                Verdict::Duplicate => duplicates += 1,
                Verdict::Failed(_) | Verdict::Deferred(_) => continue,
            }
            // Committed: the acknowledgement goes out without waiting for its reply; one
            // flush below confirms the whole batch reached the server.
            if let Err(error) = message.ack().await {
                tracing::warn!(consumer = %self.spec.name, error = %error, "acknowledgement not sent; the inbox absorbs the redelivery");
            }
        }
        if acknowledged + duplicates > 0
            && let Err(error) = self.jetstream.client().flush().await
        {
            tracing::warn!(consumer = %self.spec.name, error = %error, "acknowledgements not confirmed; the inbox absorbs any redelivery");
        }
        let consumer = self.spec.name.clone();
        metrics::counter!("xinfang_events_consumed_total", "consumer" => consumer.clone(), "outcome" => "applied").increment(acknowledged);
        metrics::counter!("xinfang_events_consumed_total", "consumer" => consumer, "outcome" => "duplicate").increment(duplicates);
        if let Some(outbox) = &self.outbox {
            outbox.committed(caused);
        }
        for (message, verdict) in messages.iter().zip(verdicts) {
            match verdict {
                Verdict::Failed(failure) => self.failed(message, failure).await,
                Verdict::Deferred(failure) => self.held_back(message, failure).await,
                Verdict::Applied(_) | Verdict::Duplicate => {}
            }
        }
        None
    }

    async fn failed(&self, message: &jetstream::Message, failure: Failure) {
        let delivered = delivered(message);
        let last_attempt = delivered >= self.spec.max_deliver;
        match failure {
            Failure::Poison(reason) => self.dead_letter(message, &reason).await,
            Failure::UnknownCase if last_attempt => self.dead_letter(message, "unknown case").await,
            Failure::Transient(reason) | Failure::Unavailable(reason) if last_attempt => {
                self.dead_letter(
                    message,
                    &format!("gave up after {delivered} deliveries: {reason}"),
                )
                .await
            }
            failure => self.retry(message, &failure).await,
        }
    }

    /// An event not applied because an earlier event of its case failed: retried with it,
    /// and set aside (with why) when its own deliveries run out, never left unaccounted.
    async fn held_back(&self, message: &jetstream::Message, failure: Failure) {
        if delivered(message) >= self.spec.max_deliver {
            let reason =
                format!("held back behind an earlier event of its case that failed: {failure:?}");
            self.dead_letter(message, &reason).await;
        } else {
            self.retry(message, &failure).await;
        }
    }

    async fn retry(&self, message: &jetstream::Message, failure: &Failure) {
        let consumer = self.spec.name.clone();
        metrics::counter!("xinfang_events_consumed_total", "consumer" => consumer, "outcome" => "retried").increment(1);
        let delivered = delivered(message);
        tracing::debug!(consumer = %self.spec.name, delivered, ?failure, "event will be retried");
        let _ = message
            .ack_with(AckKind::Nak(Some(self.retry_delay(delivered))))
            .await;
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
        headers.insert(dead_letters::DEAD_LETTER_SUBJECT, message.subject.as_str());
        let sequence = message
            .info()
            .map(|info| info.stream_sequence)
            .unwrap_or_default();
        let id = exhausted::dead_letter_id(&self.spec.name, self.spec.stream.name, sequence);
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

fn delivered(message: &jetstream::Message) -> i64 {
    message.info().map(|info| info.delivered).unwrap_or(1)
}
