//! Health is readiness: intake is not ready while a consumer of its waits for a stream
//! that does not exist, and becomes ready when it does; liveness answers throughout.

use std::time::Duration;

use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use xinfang_proto::subjects;

use super::support::{IntakeUnderTest, eventually};

async fn status(intake: &IntakeUnderTest, service: &str) -> Option<ServingStatus> {
    let channel = tonic::transport::Channel::from_shared(intake.grpc_url.clone())
        .ok()?
        .connect()
        .await
        .ok()?;
    let answer = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .ok()?;
    ServingStatus::try_from(answer.into_inner().status).ok()
}

#[tokio::test]
async fn intake_is_ready_only_once_the_stream_it_consumes_exists() {
    let intake = IntakeUnderTest::on_postgres().await;
    // Routing has never started: its stream, which intake reads, does not exist.
    eventually(Duration::from_secs(10), || async {
        (status(&intake, "xinfang.intake.v1.IntakeService").await
            == Some(ServingStatus::NotServing))
        .then_some(())
    })
    .await;
    assert_eq!(status(&intake, "").await, Some(ServingStatus::NotServing));
    assert_eq!(
        status(&intake, "liveness").await,
        Some(ServingStatus::Serving)
    );

    let config = intake.nats.config();
    let client = xinfang_platform::jetstream::connect(&config, "routing")
        .await
        .expect("connect");
    xinfang_platform::jetstream::ensure_stream(
        &async_nats::jetstream::new(client),
        subjects::ROUTING_STREAM,
        &config,
    )
    .await
    .expect("routing's stream");
    eventually(Duration::from_secs(10), || async {
        (status(&intake, "xinfang.intake.v1.IntakeService").await == Some(ServingStatus::Serving))
            .then_some(())
    })
    .await;
}
