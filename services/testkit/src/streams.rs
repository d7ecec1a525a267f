//! Reading what a test's services published, and waiting for things to happen.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;

/// How long a test waits for something that should happen in milliseconds.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Polls until `check` gives `Some`, or panics after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every message in `stream`, read with a fresh consumer that acknowledges nothing (so no
/// service's consumer is disturbed), once at least `expected` are stored — or after
/// [`PATIENCE`], so that a test expecting too many fails on its count.
pub async fn stored_messages(
    jetstream: &jetstream::Context,
    stream: &str,
    expected: usize,
) -> Vec<jetstream::Message> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let stored = match jetstream.get_stream(stream).await {
            Ok(mut handle) => handle
                .info()
                .await
                .map(|info| info.state.messages as usize)
                .unwrap_or(0),
            Err(_) => 0,
        };
        if stored >= expected || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Ok(handle) = jetstream.get_stream(stream).await else {
        return Vec::new();
    };
    let reader = handle
        .create_consumer(consumer::pull::Config {
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .expect("create a reading consumer");
    let mut batch = reader
        .fetch()
        .max_messages(expected + 10)
        .expires(Duration::from_millis(500))
        .messages()
        .await
        .expect("fetch stored messages");
    let mut messages = Vec::new();
    while let Some(message) = batch.next().await {
        messages.push(message.expect("a stored message"));
    }
    messages
}

/// CloudEvents headers for a message of `event_type` about a case nobody registered,
/// spelled by hand as a stray publisher would: for injecting poison that has a readable
/// envelope.
pub fn stray_event_headers(event_type: &str) -> async_nats::HeaderMap {
    let id = uuid::Uuid::now_v7().to_string();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", id.as_str());
    headers.insert("ce-specversion", "1.0");
    headers.insert("ce-id", id.as_str());
    headers.insert("ce-type", event_type);
    headers.insert("ce-source", "/xinfang/stray");
    headers.insert("ce-subject", uuid::Uuid::now_v7().to_string().as_str());
    headers.insert("ce-time", "2026-11-25T08:00:00Z");
    headers
}
