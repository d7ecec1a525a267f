//! Connecting to NATS and declaring the JetStream streams a service publishes into.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use xinfang_proto::subjects::{self, StreamSpec};

use crate::config::NatsConfig;

#[derive(Debug, thiserror::Error)]
pub enum JetStreamError {
    #[error("connect to NATS at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error("declare stream {stream}: {reason}")]
    Stream {
        stream: &'static str,
        reason: String,
    },
}

/// Connects, naming the connection after the service so an operator can tell clients apart.
///
/// The client keeps reconnecting in the background when the server goes away; the outbox
/// holds events meanwhile.
pub async fn connect(
    config: &NatsConfig,
    service: &str,
) -> Result<async_nats::Client, JetStreamError> {
    let mut options = match (&config.user, &config.password) {
        (Some(user), Some(password)) => {
            async_nats::ConnectOptions::with_user_and_password(user.clone(), password.clone())
        }
        _ => async_nats::ConnectOptions::new(),
    };
    options = options.custom_inbox_prefix(crate::nats_auth::inbox_prefix(service));
    options
        .name(format!("xinfang-{service}"))
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .connect(config.url.as_str())
        .await
        .map_err(|source| JetStreamError::Connect {
            url: config.url.clone(),
            source,
        })
}

/// The most submissions the queue holds: weeks of a county's petitions.
const SUBMISSION_QUEUE_MESSAGES: i64 = 100_000;

/// How long a max-deliveries notice waits for its consumer's backstop: far longer than any
/// outage a service survives.
const ADVISORY_MAX_AGE: Duration = Duration::from_secs(90 * 24 * 3600);

/// The one configuration of each stream.
///
/// Streams are file-backed and keep every event without an age limit: statistics must be
/// able to replay the whole history. Neither single messages nor the whole stream can be
/// deleted. The submission queue is the exception: a work queue, each submission removed
/// once intake acknowledged it (registered or answered with a rejection), so personal data
/// waits there no longer than it must.
pub fn stream_config(spec: StreamSpec, config: &NatsConfig) -> stream::Config {
    let max_age = if spec == subjects::ADVISORY_STREAM {
        ADVISORY_MAX_AGE
    } else {
        Duration::ZERO
    };
    stream::Config {
        name: spec.name.to_owned(),
        description: Some(spec.description.to_owned()),
        subjects: vec![spec.subjects.to_owned()],
        storage: stream::StorageType::File,
        num_replicas: config.stream_replicas,
        duplicate_window: config.duplicate_window,
        retention: if spec == subjects::SUBMISSION_STREAM {
            stream::RetentionPolicy::WorkQueue
        } else {
            stream::RetentionPolicy::Limits
        },
        // A system that floods the queue is refused at this many (it retries later), before
        // it fills the storage the event streams share. A count, not bytes: a byte limit is
        // reserved from the server's storage up front.
        max_messages: if spec == subjects::SUBMISSION_STREAM {
            SUBMISSION_QUEUE_MESSAGES
        } else {
            -1
        },
        discard: if spec == subjects::SUBMISSION_STREAM {
            stream::DiscardPolicy::New
        } else {
            stream::DiscardPolicy::Old
        },
        max_age,
        deny_delete: true,
        // Nobody empties a stream: statistics replays history, dead letters wait for an
        // operator.
        deny_purge: true,
        ..Default::default()
    }
}

/// A service's side: makes sure the stream exists, creating it when it does not. Never
/// changes an existing stream: a service's NATS user may create its streams but not update
/// them, so a compromised service cannot lower a stream's limits and erase history or dead
/// letters, and an old replica during a rolling upgrade never fights a new one over the
/// configuration. The operator brings streams to this build's configuration with
/// [`declare_streams`] (`xinfang streams declare`).
pub async fn ensure_stream(
    jetstream: &jetstream::Context,
    spec: StreamSpec,
    config: &NatsConfig,
) -> Result<(), JetStreamError> {
    let wanted = stream_config(spec, config);
    match jetstream.get_stream(spec.name).await {
        Ok(mut existing) => {
            if let Ok(info) = existing.info().await
                && differs(&info.config, &wanted)
            {
                tracing::warn!(
                    stream = spec.name,
                    "the stream's configuration differs from this build's; run `xinfang streams declare` as the operator"
                );
            }
            Ok(())
        }
        Err(error) if is_not_found(&error) => jetstream
            .create_stream(wanted)
            .await
            .map(|_| ())
            .map_err(|source| JetStreamError::Stream {
                stream: spec.name,
                reason: source.to_string(),
            }),
        Err(error) => Err(JetStreamError::Stream {
            stream: spec.name,
            reason: error.to_string(),
        }),
    }
}

/// The operator's side: creates every stream, or brings an existing one to this build's
/// configuration. Safe to run again.
pub async fn declare_streams(
    jetstream: &jetstream::Context,
    config: &NatsConfig,
) -> Result<(), JetStreamError> {
    for spec in subjects::STREAMS {
        jetstream
            .create_or_update_stream(stream_config(spec, config))
            .await
            .map_err(|source| JetStreamError::Stream {
                stream: spec.name,
                reason: source.to_string(),
            })?;
    }
    Ok(())
}

/// Removes the consumers this release retired (`subjects::RETIRED_CONSUMERS`) and their
/// backstops; returns how many were there.
pub async fn remove_retired_consumers(
    jetstream: &jetstream::Context,
) -> Result<usize, JetStreamError> {
    let mut removed = 0;
    for (stream, name) in subjects::RETIRED_CONSUMERS {
        removed += remove_consumer(jetstream, stream, name).await?;
    }
    Ok(removed)
}

/// Removes a durable consumer of `stream` and its backstop on the notices, each if it is
/// there; returns how many were.
pub async fn remove_consumer(
    jetstream: &jetstream::Context,
    stream: &'static str,
    name: &str,
) -> Result<usize, JetStreamError> {
    let mut removed = 0;
    for (stream_name, name) in [
        (stream, name.to_owned()),
        (
            subjects::ADVISORY_STREAM.name,
            subjects::exhausted_consumer(name),
        ),
    ] {
        let Ok(stream) = jetstream.get_stream(stream_name).await else {
            continue;
        };
        if stream.consumer_info(&name).await.is_err() {
            continue;
        }
        stream
            .delete_consumer(&name)
            .await
            .map_err(|source| JetStreamError::Stream {
                stream: stream_name,
                reason: format!("remove the consumer {name}: {source}"),
            })?;
        removed += 1;
    }
    Ok(removed)
}

fn is_not_found(error: &jetstream::context::GetStreamError) -> bool {
    matches!(
        error.kind(),
        jetstream::context::GetStreamErrorKind::JetStream(inner)
            if inner.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}

fn differs(existing: &stream::Config, wanted: &stream::Config) -> bool {
    let limit = |value: i64| if value > 0 { value } else { -1 };
    existing.subjects != wanted.subjects
        || existing.retention != wanted.retention
        || existing.deny_purge != wanted.deny_purge
        || existing.deny_delete != wanted.deny_delete
        || existing.max_age != wanted.max_age
        // A limit other than this build's (the server says -1 for none) could drop history.
        || limit(existing.max_messages) != limit(wanted.max_messages)
        || limit(existing.max_bytes) != limit(wanted.max_bytes)
        || existing.duplicate_window != wanted.duplicate_window
}
