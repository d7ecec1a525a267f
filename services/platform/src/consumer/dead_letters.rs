//! Reading the dead-letter stream and replaying what is in it, once the reason is fixed (a
//! unit added to the directory, a bug fixed): `xinfang dead-letters list|replay`.
//!
//! A replay publishes the message again on its original subject, with its original
//! CloudEvents headers, so every consumer of that stream sees it again; the inboxes make
//! sure it is applied once — by the consumer that set it aside — and nowhere twice. Its
//! broker id is `replay:<dead-letter sequence>`, so replaying the same dead letter twice
//! within the duplicate window publishes it once.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, stream::LastRawMessageErrorKind};
use bytes::Bytes;
use time::OffsetDateTime;
use xinfang_proto::subjects;

use crate::envelope::{DEAD_LETTER_REASON, Envelope};

/// The header naming the subject a dead letter was taken from.
pub const DEAD_LETTER_SUBJECT: &str = "xinfang-dead-letter-subject";

/// One message set aside.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Its position in the dead-letter stream: what `replay --sequence` names.
    pub sequence: u64,
    /// The consumer that set it aside.
    pub consumer: String,
    pub reason: String,
    /// Where it was published first, and where a replay publishes it again.
    pub original_subject: String,
    /// When it was set aside.
    pub set_aside_at: OffsetDateTime,
    /// Its envelope, when it had a readable one.
    pub envelope: Option<Envelope>,
    headers: HeaderMap,
    payload: Bytes,
}

/// Which dead letters to list or replay.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub consumer: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub sequence: Option<u64>,
}

impl Selection {
    fn takes(&self, letter: &DeadLetter) -> bool {
        self.consumer.as_ref().is_none_or(|c| *c == letter.consumer)
            && self.from.is_none_or(|from| letter.set_aside_at >= from)
            && self.to.is_none_or(|to| letter.set_aside_at < to)
            && self.sequence.is_none_or(|s| s == letter.sequence)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    #[error("read the dead-letter stream: {0}")]
    Read(String),
    #[error("replay dead letter {sequence} on {subject}: {reason}")]
    Replay {
        sequence: u64,
        subject: String,
        reason: String,
    },
}

/// The dead letters the selection takes, oldest first.
pub async fn list(
    jetstream: &jetstream::Context,
    selection: &Selection,
) -> Result<Vec<DeadLetter>, DeadLetterError> {
    let read = |error: &dyn std::fmt::Display| DeadLetterError::Read(error.to_string());
    let mut stream = jetstream
        .get_stream(subjects::DEAD_LETTER_STREAM.name)
        .await
        .map_err(|e| read(&e))?;
    let state = stream.info().await.map_err(|e| read(&e))?.state.clone();
    let (first, last) = match selection.sequence {
        Some(sequence) => (sequence, sequence),
        None => (state.first_sequence, state.last_sequence),
    };
    let mut letters = Vec::new();
    if state.messages == 0 {
        return Ok(letters);
    }
    for sequence in first..=last {
        let message = match stream.get_raw_message(sequence).await {
            Ok(message) => message,
            Err(error) if error.kind() == LastRawMessageErrorKind::NoMessageFound => continue,
            Err(error) => return Err(read(&error)),
        };
        let letter = DeadLetter {
            sequence,
            consumer: message
                .subject
                .strip_prefix("xinfang.v1.deadletter.")
                .unwrap_or(&message.subject)
                .to_owned(),
            reason: header(&message.headers, DEAD_LETTER_REASON),
            original_subject: header(&message.headers, DEAD_LETTER_SUBJECT),
            set_aside_at: message.time,
            envelope: Envelope::from_headers(Some(&message.headers)).ok(),
            headers: message.headers,
            payload: message.payload,
        };
        if selection.takes(&letter) {
            letters.push(letter);
        }
    }
    Ok(letters)
}

/// Publishes each selected dead letter again on its original subject and waits for the
/// broker's acknowledgement. Returns how many went out.
pub async fn replay(
    jetstream: &jetstream::Context,
    selection: &Selection,
) -> Result<usize, DeadLetterError> {
    let letters = list(jetstream, selection).await?;
    for letter in &letters {
        let failed = |reason: String| DeadLetterError::Replay {
            sequence: letter.sequence,
            subject: letter.original_subject.clone(),
            reason,
        };
        if letter.original_subject.is_empty() {
            return Err(failed("it does not say where it came from".into()));
        }
        let mut headers = letter.headers.clone();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            format!("replay:{}", letter.sequence).as_str(),
        );
        jetstream
            .publish_with_headers(
                letter.original_subject.clone(),
                headers,
                letter.payload.clone(),
            )
            .await
            .map_err(|error| failed(error.to_string()))?
            .await
            .map_err(|error| failed(error.to_string()))?;
        tracing::info!(sequence = letter.sequence, consumer = %letter.consumer, subject = %letter.original_subject, "dead letter replayed");
    }
    Ok(letters.len())
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .map(|value| value.as_str().to_owned())
        .unwrap_or_default()
}
