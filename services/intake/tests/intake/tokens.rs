//! Authentication on intake's API: no token, or a token that fails any check, is
//! UNAUTHENTICATED, and nothing is stored. Health stays open for probes.

use time::Duration;
use tonic::Code;
use xinfang_platform::auth::Role;
use xinfang_platform::auth::token::Claims;
use xinfang_proto::intake::v1::intake_service_client::IntakeServiceClient;
use xinfang_testkit::auth;

use super::support::{IntakeUnderTest, create, visit};

async fn create_with(intake: &IntakeUnderTest, token: &str) -> tonic::Status {
    let mut client = IntakeServiceClient::new(auth::authed(&intake.grpc_url, token));
    client
        .create_petition(create(visit("with a bad token")))
        .await
        .expect_err("refused")
}

fn registrar() -> Claims {
    auth::claims(&[Role::Registrar], &[])
}

fn unauthenticated_with(status: &tonic::Status, message: &str) {
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(status.message(), message);
}

#[tokio::test]
async fn a_call_without_a_token_is_unauthenticated_and_stores_nothing() {
    let intake = IntakeUnderTest::on_postgres().await;
    let channel = tonic::transport::Channel::from_shared(intake.grpc_url.clone())
        .expect("url")
        .connect_lazy();
    let status = IntakeServiceClient::new(channel)
        .create_petition(create(visit("no token")))
        .await
        .expect_err("refused");
    unauthenticated_with(
        &status,
        "no bearer token: send `authorization: Bearer <token>`",
    );
    assert_eq!(intake.petitions_stored().await, 0);
}

#[tokio::test]
async fn an_expired_token_is_unauthenticated() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut claims = registrar();
    claims.exp = (time::OffsetDateTime::now_utc() - Duration::hours(1)).unix_timestamp() as u64;
    let status = create_with(&intake, &auth::sign(&claims)).await;
    unauthenticated_with(&status, "the token has expired");
    assert_eq!(intake.petitions_stored().await, 0);
}

#[tokio::test]
async fn a_token_for_another_audience_is_unauthenticated() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut claims = registrar();
    claims.aud = "another-system".into();
    let status = create_with(&intake, &auth::sign(&claims)).await;
    unauthenticated_with(&status, "the token is for another audience");
}

#[tokio::test]
async fn a_token_from_another_issuer_is_unauthenticated() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut claims = registrar();
    claims.iss = "someone-else".into();
    let status = create_with(&intake, &auth::sign(&claims)).await;
    unauthenticated_with(&status, "the token is from another issuer");
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_unauthenticated() {
    let intake = IntakeUnderTest::on_postgres().await;
    let forged = xinfang_platform::auth::token::mint_hs256(b"a guessed secret", &registrar())
        .expect("a token");
    let status = create_with(&intake, &forged).await;
    unauthenticated_with(&status, "the token's signature does not verify");
}

#[tokio::test]
async fn a_token_with_tampered_claims_is_unauthenticated() {
    let intake = IntakeUnderTest::on_postgres().await;
    // An analyst's token whose payload is swapped for a registrar's, signature kept.
    let analyst = auth::token(&[Role::Analyst], &[]);
    let registrar = auth::token(&[Role::Registrar], &[]);
    let parts: Vec<&str> = analyst.split('.').collect();
    let payload = registrar.split('.').nth(1).expect("a payload");
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    let status = create_with(&intake, &tampered).await;
    unauthenticated_with(&status, "the token's signature does not verify");
    assert_eq!(intake.petitions_stored().await, 0);
}

#[tokio::test]
async fn a_role_the_table_does_not_allow_is_permission_denied_and_audited() {
    let intake = IntakeUnderTest::on_postgres().await;
    let status = create_with(&intake, &auth::token(&[Role::Analyst], &[])).await;
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(
        status.message(),
        "test-analyst (roles: analyst) may not call xinfang.intake.v1.IntakeService/CreatePetition"
    );
    assert_eq!(intake.petitions_stored().await, 0);
    let audit = intake.audit_entries().await;
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (
            audit[0].subject.as_str(),
            audit[0].roles.as_str(),
            audit[0].action.as_str(),
            audit[0].allowed
        ),
        (
            "test-analyst",
            "analyst",
            "xinfang.intake.v1.IntakeService/CreatePetition",
            false
        )
    );
}

#[tokio::test]
async fn registering_is_audited_with_the_new_case() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();
    let petition = client
        .create_petition(create(visit("audited")))
        .await
        .expect("registered")
        .into_inner();
    let audit = intake.audit_entries().await;
    assert_eq!(audit.len(), 1);
    assert_eq!(
        audit[0].case_id.map(|id| id.to_string()),
        Some(petition.case_id)
    );
    assert!(audit[0].allowed);
    assert_eq!(audit[0].note, "registered");
}

#[tokio::test]
async fn the_audit_table_refuses_changes() {
    use sea_orm::ConnectionTrait;
    let intake = IntakeUnderTest::on_sqlite().await;
    let _ = create_with(&intake, &auth::token(&[Role::Analyst], &[])).await;
    assert_eq!(intake.audit_entries().await.len(), 1);
    let update = intake
        .db
        .execute_unprepared("UPDATE audit_entry SET allowed = true")
        .await;
    assert!(update.is_err(), "an audit row was changed");
    let delete = intake
        .db
        .execute_unprepared("DELETE FROM audit_entry")
        .await;
    assert!(delete.is_err(), "an audit row was deleted");
    assert_eq!(intake.audit_entries().await.len(), 1);
}

#[tokio::test]
async fn liveness_needs_no_token() {
    let intake = IntakeUnderTest::on_postgres().await;
    let channel = tonic::transport::Channel::from_shared(intake.grpc_url.clone())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let status = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: "liveness".into(),
        })
        .await
        .expect("health answers")
        .into_inner()
        .status;
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn on_postgres_the_audit_table_refuses_truncate_too() {
    use sea_orm::ConnectionTrait;
    let intake = IntakeUnderTest::on_postgres().await;
    let _ = create_with(&intake, &auth::token(&[Role::Analyst], &[])).await;
    assert_eq!(intake.audit_entries().await.len(), 1);
    for statement in [
        "UPDATE audit_entry SET allowed = true",
        "DELETE FROM audit_entry",
        "TRUNCATE audit_entry",
    ] {
        let refused = intake.db.execute_unprepared(statement).await;
        assert!(refused.is_err(), "{statement} went through");
    }
    assert_eq!(intake.audit_entries().await.len(), 1);
}
