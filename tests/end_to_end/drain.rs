//! SIGTERM under load, as Kubernetes stops a pod: the service stops taking work, finishes
//! the batch and the calls in hand, publishes every event it committed, and exits within
//! its grace period. Nothing is half-done: nothing lost, nothing applied twice.

use std::time::Duration;

use xinfang_testkit::{Backend, Stack, Svc};

use crate::crashes::{CLIENTS, PER_CLIENT, finish, submitting};
use crate::support;

/// The services' default `XINFANG_SHUTDOWN_GRACE`.
const GRACE: Duration = Duration::from_secs(20);

async fn terminated_under_load_and_restarted(svc: Svc) {
    let mut stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let clients = submitting(&stack);
    support::settled_overview(&stack, 10).await;
    let (took, status) = stack.terminate(svc).await.expect("terminate");
    assert!(status.success(), "{} exited with {status}", svc.name());
    assert!(took < GRACE, "{} took {took:?} to drain", svc.name());
    // What it committed, it published before it exited.
    assert_eq!(
        support::rows(&stack, svc, "outbox WHERE published_at IS NULL").await,
        0,
        "unpublished events left behind by {}",
        svc.name()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stack.restart(svc).await.expect("restart");
    finish(clients).await;
    support::assert_exactly(&stack, (CLIENTS * PER_CLIENT) as u64).await;
}

#[tokio::test]
async fn intake_terminated_under_load_drains_and_loses_nothing() {
    terminated_under_load_and_restarted(Svc::Intake).await;
}

#[tokio::test]
async fn routing_terminated_under_load_drains_and_loses_nothing() {
    terminated_under_load_and_restarted(Svc::Routing).await;
}

#[tokio::test]
async fn statistics_terminated_under_load_drains_and_loses_nothing() {
    terminated_under_load_and_restarted(Svc::Statistics).await;
}
