//! Poison on a real stream: every consumer sets it aside with the reason, and valid
//! traffic flows past it.

use async_nats::HeaderMap;
use bytes::Bytes;
use xinfang_proto::subjects;
use xinfang_testkit::{Backend, Stack, sample, stored_messages, stray_event_headers};

use crate::support;

#[tokio::test]
async fn poison_is_dead_lettered_by_every_consumer_with_its_reason_and_traffic_flows() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let client = stack.nats.client().await.expect("connect");
    let jetstream = async_nats::jetstream::new(client);
    let poison = [
        (
            HeaderMap::new(),
            Bytes::from_static(b"\x00\xff random bytes"),
        ),
        (
            stray_event_headers("xinfang.v1.SomethingElse"),
            Bytes::from_static(b""),
        ),
        (
            stray_event_headers("xinfang.intake.v1.PetitionRegistered"),
            Bytes::from_static(b"\xff\xff\xff"),
        ),
    ];
    for (headers, payload) in poison {
        jetstream
            .publish_with_headers(subjects::PETITION_REGISTERED, headers, payload)
            .await
            .expect("publish")
            .await
            .expect("stored");
    }
    let mut intake = support::intake(&stack).await;
    support::submit(&mut intake, sample::create(1)).await;
    let overview = support::settled_overview(&stack, 1).await;
    assert_eq!(overview.cases, 1);

    // Routing, supervision and statistics all read intake's stream: each sets all three
    // aside.
    let dead = stored_messages(&jetstream, subjects::DEAD_LETTER_STREAM.name, 9).await;
    let mut reasons: Vec<(String, String)> = dead
        .iter()
        .map(|message| {
            let reason = message
                .headers
                .as_ref()
                .and_then(|h| h.get("xinfang-dead-letter-reason"))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            let reason = reason.split(':').next().unwrap_or_default().to_owned();
            (message.subject.to_string(), reason)
        })
        .collect();
    reasons.sort();
    let expected = |consumer: &str| {
        let subject = subjects::dead_letter_subject(consumer);
        vec![
            (
                subject.clone(),
                "undecodable xinfang.intake.v1.PetitionRegistered".to_owned(),
            ),
            (
                subject.clone(),
                "unknown event type xinfang.v1.SomethingElse".to_owned(),
            ),
            (subject, "unreadable envelope".to_owned()),
        ]
    };
    let mut wanted = expected("routing");
    wanted.extend(expected("supervision-intake"));
    wanted.extend(expected("statistics-facts-registered"));
    wanted.sort();
    assert_eq!(reasons, wanted);
}
