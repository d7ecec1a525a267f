//! Server reflection in both versions clients speak: v1 (buf curl, grpcurl) and v1alpha
//! (Python's grpcio-reflection, older grpcurl), without a token.

use tonic_reflection::pb::{v1, v1alpha};

use super::support::IntakeUnderTest;

const EXPECTED: [&str; 3] = [
    "grpc.health.v1.Health",
    "xinfang.intake.v1.IntakeService",
    "grpc.reflection.v1.ServerReflection",
];

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_the_services() {
    let intake = IntakeUnderTest::on_sqlite().await;
    let channel = tonic::transport::Endpoint::from_shared(intake.grpc_url.clone())
        .expect("url")
        .connect()
        .await
        .expect("connect");

    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut answers = client
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("v1 answers")
        .into_inner();
    let answer = answers.message().await.expect("a reply").expect("one");
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(listed)) =
        answer.message_response
    else {
        panic!("not a service list: {answer:?}");
    };
    let names: Vec<String> = listed.service.into_iter().map(|s| s.name).collect();
    for expected in EXPECTED {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }

    let mut client = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut answers = client
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("v1alpha answers")
        .into_inner();
    let answer = answers.message().await.expect("a reply").expect("one");
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(listed)) =
        answer.message_response
    else {
        panic!("not a service list: {answer:?}");
    };
    let names: Vec<String> = listed.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.iter().any(|n| n == "xinfang.intake.v1.IntakeService"),
        "{names:?}"
    );
}
