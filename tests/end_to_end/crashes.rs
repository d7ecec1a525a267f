//! Crashes mid-stream: a service SIGKILLed and started again, the broker SIGKILLed and
//! started again. Nothing acknowledged is lost, nothing is doubled.

use std::time::Duration;

use tokio::task::JoinHandle;
use xinfang_proto::intake::v1::intake_service_client::IntakeServiceClient;
use xinfang_testkit::{Backend, Stack, Svc, sample};

use crate::support;

pub(crate) const CLIENTS: usize = 4;
pub(crate) const PER_CLIENT: usize = 60;

/// Clients submitting in the background, each retrying with the same request id.
pub(crate) fn submitting(stack: &Stack) -> Vec<JoinHandle<()>> {
    (0..CLIENTS)
        .map(|client| {
            let url = stack.grpc_url(Svc::Intake);
            tokio::spawn(async move {
                let channel = xinfang_testkit::auth::authed(&url, &support::bureau_token());
                let mut intake = IntakeServiceClient::new(channel);
                for i in 0..PER_CLIENT {
                    support::submit(&mut intake, sample::create(client * PER_CLIENT + i)).await;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect()
}

pub(crate) async fn finish(clients: Vec<JoinHandle<()>>) {
    for client in futures::future::join_all(clients).await {
        client.expect("client finished");
    }
}

async fn killed_mid_stream_and_restarted(svc: Svc) {
    let mut stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let clients = submitting(&stack);
    // Let traffic flow through every service, then crash one in the middle of it.
    support::settled_overview(&stack, 10).await;
    stack.kill(svc).await.expect("kill");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stack.restart(svc).await.expect("restart");
    finish(clients).await;
    support::assert_exactly(&stack, (CLIENTS * PER_CLIENT) as u64).await;
}

#[tokio::test]
async fn intake_killed_mid_stream_loses_and_doubles_nothing() {
    killed_mid_stream_and_restarted(Svc::Intake).await;
}

#[tokio::test]
async fn routing_killed_mid_stream_loses_and_doubles_nothing() {
    killed_mid_stream_and_restarted(Svc::Routing).await;
}

#[tokio::test]
async fn supervision_killed_mid_stream_loses_and_doubles_nothing() {
    killed_mid_stream_and_restarted(Svc::Supervision).await;
}

#[tokio::test]
async fn statistics_killed_mid_stream_loses_and_doubles_nothing() {
    killed_mid_stream_and_restarted(Svc::Statistics).await;
}

#[tokio::test]
async fn with_the_broker_down_intake_keeps_accepting_and_everything_drains_after() {
    let mut stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let clients = submitting(&stack);
    support::settled_overview(&stack, 10).await;
    stack.nats.kill().await.expect("kill nats-server");
    // While the broker is away, petitions are still taken: the outbox holds their events.
    let mut intake = support::intake(&stack).await;
    for i in 0..20 {
        let request = sample::create(10_000 + i);
        let answered =
            tokio::time::timeout(Duration::from_secs(10), intake.create_petition(request))
                .await
                .expect("intake answers with the broker down");
        answered.expect("intake accepts with the broker down");
    }
    stack.nats.restart().await.expect("restart nats-server");
    finish(clients).await;
    support::assert_exactly(&stack, (CLIENTS * PER_CLIENT + 20) as u64).await;
}
