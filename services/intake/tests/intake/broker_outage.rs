//! The outbox holds: intake keeps registering while the broker is down, and everything
//! reaches the stream once it is back.

use std::time::Duration;

use super::support::{IntakeUnderTest, create, eventually, visit};

#[tokio::test]
async fn petitions_registered_while_the_broker_is_down_are_published_when_it_returns() {
    let mut intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();
    client
        .create_petition(create(visit("停机前")))
        .await
        .expect("registered");
    assert_eq!(intake.published(1).await.len(), 1);

    intake.nats.kill().await.expect("kill nats-server");
    for i in 0..20 {
        client
            .create_petition(create(visit(&format!("停机中 {i}"))))
            .await
            .expect("intake keeps accepting");
    }
    assert_eq!(intake.petitions_stored().await, 21);

    intake.nats.restart().await.expect("restart nats-server");
    eventually(Duration::from_secs(30), || async {
        let rows = intake.outbox_rows().await;
        rows.iter()
            .all(|row| row.published_at.is_some())
            .then_some(())
    })
    .await;
    assert_eq!(
        intake.published(21).await.len(),
        21,
        "every event once, none doubled"
    );
}
