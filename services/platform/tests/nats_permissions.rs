//! The generated NATS users on a real nats-server: each service may publish its own events,
//! and a publish or subscribe outside its permissions is refused by the server, which says
//! so in an error event on the connection.

use std::time::Duration;

use async_nats::{ConnectOptions, Event};
use tokio::sync::mpsc;
use xinfang_platform::nats_auth::{self, NatsUser};
use xinfang_proto::subjects;
use xinfang_testkit::NatsServer;

fn users() -> Vec<NatsUser> {
    let mut users: Vec<NatsUser> = subjects::SERVICES
        .iter()
        .map(|binding| NatsUser {
            name: binding.service.to_owned(),
            password: format!("{}-secret", binding.service),
            permissions: Some(nats_auth::permissions(binding)),
        })
        .collect();
    users.push(NatsUser {
        name: "operator".into(),
        password: "operator-secret".into(),
        permissions: None,
    });
    users
}

/// Connects as `service`, collecting the server's error events.
async fn connect_as(
    nats: &NatsServer,
    service: &str,
) -> (async_nats::Client, mpsc::UnboundedReceiver<String>) {
    let (errors, received) = mpsc::unbounded_channel();
    let client =
        ConnectOptions::with_user_and_password(service.to_owned(), format!("{service}-secret"))
            .custom_inbox_prefix(nats_auth::inbox_prefix(service))
            .event_callback(move |event| {
                let errors = errors.clone();
                async move {
                    if let Event::ServerError(error) = event {
                        let _ = errors.send(error.to_string());
                    }
                }
            })
            .connect(nats.url())
            .await
            .expect("connect");
    (client, received)
}

async fn next_error(errors: &mut mpsc::UnboundedReceiver<String>) -> Option<String> {
    tokio::time::timeout(Duration::from_secs(2), errors.recv())
        .await
        .ok()
        .flatten()
}

async fn server() -> NatsServer {
    let block = nats_auth::authorization_block(&users());
    NatsServer::start_configured(
        "always",
        Some(block),
        Some(("operator".into(), "operator-secret".into())),
    )
    .await
    .expect("nats-server with authorization")
}

#[tokio::test]
async fn intake_cannot_publish_routings_events() {
    let nats = server().await;
    let (client, mut errors) = connect_as(&nats, "intake").await;
    client
        .publish(subjects::petition_routed("zhaocun"), "forged".into())
        .await
        .expect("sent");
    client.flush().await.expect("flushed");
    let error = next_error(&mut errors).await.expect("a server error event");
    assert!(
        error
            .to_lowercase()
            .contains("permissions violation for publish"),
        "{error}"
    );
    assert!(
        error.contains("xinfang.v1.routing.unit.zhaocun.petition.routed"),
        "{error}"
    );
}

#[tokio::test]
async fn intake_may_publish_its_own_events() {
    let nats = server().await;
    let (client, mut errors) = connect_as(&nats, "intake").await;
    client
        .publish(subjects::PETITION_REGISTERED, "fine".into())
        .await
        .expect("sent");
    client.flush().await.expect("flushed");
    assert_eq!(next_error(&mut errors).await, None);
}

#[tokio::test]
async fn a_service_cannot_read_another_services_replies() {
    let nats = server().await;
    let (client, mut errors) = connect_as(&nats, "statistics").await;
    let _subscription = client.subscribe("_INBOX_routing.>").await.expect("sent");
    client.flush().await.expect("flushed");
    let error = next_error(&mut errors).await.expect("a server error event");
    assert!(
        error
            .to_lowercase()
            .contains("permissions violation for subscription"),
        "{error}"
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused() {
    let nats = server().await;
    let refused = ConnectOptions::with_user_and_password("routing".into(), "guess".into())
        .connect(nats.url())
        .await;
    assert!(refused.is_err());
}

#[tokio::test]
async fn a_service_cannot_lower_the_limits_of_its_own_stream_or_the_dead_letters() {
    let nats = server().await;
    let operator = async_nats::jetstream::new(nats.client().await.expect("operator"));
    xinfang_platform::jetstream::declare_streams(&operator, &nats.config())
        .await
        .expect("declared by the operator");
    let (client, _errors) = connect_as(&nats, "routing").await;
    let mut routing = async_nats::jetstream::new(client);
    routing.set_timeout(Duration::from_secs(1));

    for spec in [subjects::ROUTING_STREAM, subjects::DEAD_LETTER_STREAM] {
        let mut lowered = xinfang_platform::jetstream::stream_config(spec, &nats.config());
        lowered.max_messages = 1;
        assert!(
            routing.update_stream(lowered.clone()).await.is_err(),
            "{} updated by routing",
            spec.name
        );
        // Nor by "creating" it again with other limits.
        assert!(
            routing.create_stream(lowered).await.is_err(),
            "{} recreated by routing",
            spec.name
        );
        let mut stream = operator.get_stream(spec.name).await.expect("stream");
        let config = stream.info().await.expect("info").config.clone();
        assert_eq!(config.max_messages, -1, "{}", spec.name);
    }
}

#[tokio::test]
async fn a_service_finds_the_streams_the_operator_declared_without_changing_them() {
    let nats = server().await;
    let operator = async_nats::jetstream::new(nats.client().await.expect("operator"));
    xinfang_platform::jetstream::declare_streams(&operator, &nats.config())
        .await
        .expect("declared by the operator");
    let (client, _errors) = connect_as(&nats, "routing").await;
    let routing = async_nats::jetstream::new(client);
    for spec in [
        subjects::ROUTING_STREAM,
        subjects::DEAD_LETTER_STREAM,
        subjects::ADVISORY_STREAM,
    ] {
        xinfang_platform::jetstream::ensure_stream(&routing, spec, &nats.config())
            .await
            .expect("found");
    }
}
