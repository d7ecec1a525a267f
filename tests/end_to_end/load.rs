//! Many petitions from concurrent clients: each counted once everywhere.

use xinfang_testkit::{Backend, Stack, sample};

use crate::support;

#[tokio::test]
async fn a_thousand_petitions_from_eight_clients_are_each_counted_once_everywhere() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let clients = (0..8).map(|client| {
        let url = stack.grpc_url(xinfang_testkit::Svc::Intake);
        tokio::spawn(async move {
            let channel = xinfang_testkit::auth::authed(&url, &support::bureau_token());
            let mut intake =
                xinfang_proto::intake::v1::intake_service_client::IntakeServiceClient::new(channel);
            for i in 0..125 {
                support::submit(&mut intake, sample::create(client * 125 + i)).await;
            }
        })
    });
    for client in futures::future::join_all(clients).await {
        client.expect("client finished");
    }
    support::assert_exactly(&stack, 1000).await;
}
