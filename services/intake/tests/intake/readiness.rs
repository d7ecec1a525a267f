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
    // Routing and supervision have never started: their streams, which intake reads, do not
    // exist.
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

    the_streams_intake_reads_exist(&intake).await;
    eventually(Duration::from_secs(10), || async {
        (status(&intake, "xinfang.intake.v1.IntakeService").await == Some(ServingStatus::Serving))
            .then_some(())
    })
    .await;
}

/// Routing's and supervision's streams, which intake reads, as their services would
/// declare them.
async fn the_streams_intake_reads_exist(intake: &IntakeUnderTest) {
    let config = intake.nats.config();
    let client = xinfang_platform::jetstream::connect(&config, "operator")
        .await
        .expect("connect");
    let jetstream = async_nats::jetstream::new(client);
    for stream in [subjects::ROUTING_STREAM, subjects::SUPERVISION_STREAM] {
        xinfang_platform::jetstream::ensure_stream(&jetstream, stream, &config)
            .await
            .expect("the stream");
    }
}

/// An outbox row no stream takes, committed `minutes` ago.
async fn refused_row(intake: &IntakeUnderTest, minutes: i64) {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    use xinfang_platform::outbox::entity;
    let staged = time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes);
    entity::Entity::insert(entity::ActiveModel {
        event_id: Set(uuid::Uuid::now_v7()),
        subject: Set("xinfang.v1.nowhere.refused".into()),
        event_type: Set("xinfang.intake.v1.PetitionRegistered".into()),
        case_id: Set(uuid::Uuid::now_v7()),
        occurred_at: Set(staged),
        staged_at: Set(staged),
        payload: Set(Vec::new()),
        traceparent: Set(None),
        published_at: Set(None),
        ..Default::default()
    })
    .exec(&intake.db)
    .await
    .expect("insert the row");
}

#[tokio::test]
async fn one_event_the_broker_refuses_does_not_take_intake_out_of_service_while_others_flow() {
    let intake = IntakeUnderTest::on_postgres().await;
    the_streams_intake_reads_exist(&intake).await;
    refused_row(&intake, 3).await;
    // Nothing after it was published: the relay looks stuck.
    eventually(Duration::from_secs(10), || async {
        (status(&intake, "xinfang.intake.v1.IntakeService").await
            == Some(ServingStatus::NotServing))
        .then_some(())
    })
    .await;

    // A petition registered now is published past it: the relay works.
    let mut client = intake.client.clone();
    client
        .create_petition(super::support::create(super::support::visit("after")))
        .await
        .expect("registered");
    intake.published(1).await;
    eventually(Duration::from_secs(10), || async {
        (status(&intake, "xinfang.intake.v1.IntakeService").await == Some(ServingStatus::Serving))
            .then_some(())
    })
    .await;
}
