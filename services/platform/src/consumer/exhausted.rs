//! The backstop for messages that ran out of deliveries without the consumer setting them
//! aside itself (its process died while handling them, every time).

use async_nats::jetstream;
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
