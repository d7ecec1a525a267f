//! A PostgreSQL restart leaves the pool holding connections to a server that is gone. The
//! clerk's next petition must not pay for them: it is accepted at the first call.

use sea_orm::{EntityTrait, PaginatorTrait};
use xinfang_testkit::{PrivatePostgres, TestDatabase};

use super::support::{IntakeUnderTest, create, visit};

#[tokio::test]
async fn after_a_database_restart_the_next_petitions_are_accepted_at_the_first_call() {
    let postgres = PrivatePostgres::start().await.expect("a private cluster");
    let database = TestDatabase::postgres_on(&postgres.url())
        .await
        .expect("a database on it");
    let url = database.url().to_owned();
    let intake = IntakeUnderTest::on(database).await;
    // Several at once, so the pool holds several connections.
    let concurrent = (0..8).map(|i| {
        let mut client = intake.client.clone();
        async move {
            client
                .create_petition(create(visit(&format!("before the restart {i}"))))
                .await
        }
    });
    for answer in futures::future::join_all(concurrent).await {
        answer.expect("accepted before the restart");
    }

    postgres.stop().await.expect("stop");
    postgres.resume().await.expect("start again");

    let mut client = intake.client.clone();
    for i in 0..3 {
        let answer = client
            .create_petition(create(visit(&format!("after the restart {i}"))))
            .await;
        assert!(
            answer.is_ok(),
            "petition {i} after the restart: {:?}",
            answer.err()
        );
    }
    // The test's own connection died with the restart too: count on a fresh one.
    let db = sea_orm::Database::connect(url).await.expect("connect");
    let stored = xinfang_intake::store::petition::Entity::find()
        .count(&db)
        .await
        .expect("count");
    assert_eq!(stored, 11);
}
