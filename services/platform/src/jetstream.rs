//! Connecting to NATS and declaring the JetStream streams a service publishes into.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use xinfang_proto::subjects::StreamSpec;

use crate::config::NatsConfig;

#[derive(Debug, thiserror::Error)]
pub enum JetStreamError {
    #[error("connect to NATS at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error("declare stream {stream}: {source}")]
    Stream {
        stream: &'static str,
        source: jetstream::context::CreateStreamError,
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

/// Creates the stream, or brings an existing one to this configuration. Safe to run at
/// every start of every replica.
///
/// Streams are file-backed and keep every event without an age limit: statistics must be
/// able to replay the whole history. Neither single messages nor the whole stream can be
/// deleted.
pub async fn ensure_stream(
    jetstream: &jetstream::Context,
    spec: StreamSpec,
    config: &NatsConfig,
) -> Result<(), JetStreamError> {
    jetstream
        .create_or_update_stream(stream::Config {
            name: spec.name.to_owned(),
            description: Some(spec.description.to_owned()),
            subjects: vec![spec.subjects.to_owned()],
            storage: stream::StorageType::File,
            num_replicas: config.stream_replicas,
            duplicate_window: config.duplicate_window,
            retention: stream::RetentionPolicy::Limits,
            deny_delete: true,
            // Nobody empties a stream: statistics replays history, dead letters wait for
            // an operator.
            deny_purge: true,
            ..Default::default()
        })
        .await
        .map(|_| ())
        .map_err(|source| JetStreamError::Stream {
            stream: spec.name,
            source,
        })
}
