//! The backstop for messages that ran out of deliveries without the consumer setting them
//! aside itself (its process died while handling them, every time).

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull, stream::RawMessageErrorKind};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use xinfang_proto::subjects;

use crate::envelope::DEAD_LETTER_REASON;

/// One id per consumer and stream position: the dead-letter stream drops a repeat of the
/// same set-aside (by the consumer itself and by [`set_aside_exhausted`]), never another
/// consumer's.
pub(crate) fn dead_letter_id(consumer: &str, stream: &str, sequence: u64) -> String {
    format!("{consumer}:{stream}:{sequence}")
}

#[derive(serde::Deserialize)]
struct MaxDeliveriesAdvisory {
    stream_seq: u64,
    deliveries: u64,
}

/// How long a notice waits before it is tried again, when the message could not be read
/// back or set aside (NATS busy, the dead-letter stream full).
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// What became of one notice.
enum Handled {
    /// The message is in the dead-letter stream.
    SetAside,
    /// The notice is unreadable, or the message is gone from the stream: nothing to set
    /// aside, ever.
    Nothing(String),
    /// Try again later.
    Retry(String),
}

/// Catches what ran out of deliveries without the consumer setting it aside itself (its
/// process died while handling it, every time, or it was handed back on its last
/// delivery): the server's MAX_DELIVERIES notice names the stream position; the message is
/// read back and published to the consumer's dead-letter subject with the reason.
///
/// The notices are kept in [`subjects::ADVISORY_STREAM`] and read through a durable
/// consumer, so a notice that fired while this service was down is handled at its next
/// start, and a notice is acknowledged only once the dead letter is stored: nothing leaves
/// the stream unaccounted. Runs until `shutdown`.
pub async fn set_aside_exhausted(
    jetstream: jetstream::Context,
    stream: &'static str,
    consumer: String,
    shutdown: CancellationToken,
) {
    loop {
        let ended = watch(&jetstream, stream, &consumer, &shutdown).await;
        match ended {
            Ok(()) => return,
            Err(error) => {
                tracing::error!(%consumer, error = %error, "max-deliveries backstop interrupted; starting again");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(RETRY_AFTER) => {}
                }
            }
        }
    }
}

async fn watch(
    jetstream: &jetstream::Context,
    stream: &'static str,
    consumer: &str,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    let notices = jetstream
        .get_stream(subjects::ADVISORY_STREAM.name)
        .await
        .map_err(|e| format!("advisory stream: {e}"))?;
    let name = subjects::exhausted_consumer(consumer);
    let reader = notices
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: subjects::max_deliveries_advisory(stream, consumer),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("advisory consumer {name}: {e}"))?;
    let mut messages = reader
        .messages()
        .await
        .map_err(|e| format!("advisory consumer {name}: {e}"))?;
    loop {
        let notice = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            next = messages.next() => match next {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    tracing::warn!(%consumer, error = %error, "reading max-deliveries notices; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                None => return Err("the notice stream ended".into()),
            },
        };
        let acknowledgement = match set_aside(jetstream, stream, consumer, &notice.payload).await {
            Handled::SetAside => AckKind::Ack,
            Handled::Nothing(why) => {
                tracing::error!(%consumer, why = %why, "a max-deliveries notice with nothing to set aside");
                AckKind::Term
            }
            Handled::Retry(why) => {
                tracing::error!(%consumer, why = %why, "an exhausted message could not be set aside yet; retrying");
                AckKind::Nak(Some(RETRY_AFTER))
            }
        };
        // A notice is done with only once the server has its acknowledgement: otherwise it
        // comes back, and the dead letter's id keeps the repeat from doubling it.
        let acknowledged = match acknowledgement {
            AckKind::Ack => notice.double_ack().await,
            other => notice.ack_with(other).await,
        };
        if let Err(error) = acknowledged {
            tracing::warn!(%consumer, error = %error, "acknowledging a max-deliveries notice");
        }
    }
}

async fn set_aside(
    jetstream: &jetstream::Context,
    stream: &'static str,
    consumer: &str,
    notice: &[u8],
) -> Handled {
    let Ok(advisory) = serde_json::from_slice::<MaxDeliveriesAdvisory>(notice) else {
        return Handled::Nothing("unreadable notice".into());
    };
    let sequence = advisory.stream_seq;
    let source = match jetstream.get_stream(stream).await {
        Ok(source) => source,
        Err(error) => return Handled::Retry(format!("stream {stream}: {error}")),
    };
    let stored = match source.get_raw_message(sequence).await {
        Ok(stored) => stored,
        Err(error) if error.kind() == RawMessageErrorKind::NoMessageFound => {
            return Handled::Nothing(format!("message {sequence} is no longer in {stream}"));
        }
        Err(error) => return Handled::Retry(format!("read back {sequence}: {error}")),
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
        dead_letter_id(consumer, stream, sequence).as_str(),
    );
    let published = jetstream
        .publish_with_headers(
            subjects::dead_letter_subject(consumer),
            headers,
            stored.payload.clone(),
        )
        .await;
    match published {
        Ok(ack) => match ack.await {
            Ok(_) => Handled::SetAside,
            Err(error) => Handled::Retry(format!("dead-letter {sequence}: {error}")),
        },
        Err(error) => Handled::Retry(format!("dead-letter {sequence}: {error}")),
    }
}
