//! Bad input gets a precise error and changes nothing.

use tonic::Code;
use tonic_types::StatusExt;
use xinfang_proto::intake::v1::{
    CreatePetitionRequest, GetPetitionRequest, get_petition_request::Key,
};

use super::support::{IntakeUnderTest, create, visit};

#[tokio::test]
async fn an_invalid_petition_gets_every_field_violation_and_stores_nothing() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();
    let mut petition = visit("缺少内容");
    petition.content.clear();
    petition.territory_code = "Not A Code".into();
    if let Some(identity) = petition.petitioner.as_mut() {
        identity.id_card_number = "610481199001011234".into();
    }
    let request = CreatePetitionRequest {
        request_id: "not-a-uuid".into(),
        petition: Some(petition),
        registering_unit: String::new(),
    };

    let refused = client
        .create_petition(request)
        .await
        .expect_err("invalid petition");

    assert_eq!(refused.code(), Code::InvalidArgument);
    let bad_request = refused
        .get_details_bad_request()
        .expect("google.rpc.BadRequest details");
    let fields: Vec<&str> = bad_request
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "request_id",
            "petition.petitioner.id_card_number",
            "petition.territory_code",
            "petition.content"
        ]
    );
    assert!(
        !refused.message().contains("610481199001011234"),
        "the error repeats an identity number"
    );
    assert_eq!(intake.petitions_stored().await, 0);
    assert!(intake.outbox_rows().await.is_empty());
}

#[tokio::test]
async fn an_oversized_request_is_refused_before_it_is_decoded() {
    let intake = IntakeUnderTest::on_sqlite().await;
    let mut client = intake.client.clone();
    let mut petition = visit("超长");
    petition.content = "字".repeat(400_000);
    let refused = client
        .create_petition(create(petition))
        .await
        .expect_err("oversized");
    assert_eq!(refused.code(), Code::OutOfRange);
    assert_eq!(intake.petitions_stored().await, 0);
}

#[tokio::test]
async fn an_unknown_case_is_not_found_and_a_malformed_key_is_invalid() {
    let intake = IntakeUnderTest::on_sqlite().await;
    let mut client = intake.client.clone();
    let unknown = GetPetitionRequest {
        key: Some(Key::CaseNumber("610481-2026-999999".into())),
    };
    assert_eq!(
        client
            .get_petition(unknown)
            .await
            .expect_err("unknown")
            .code(),
        Code::NotFound
    );
    let malformed = GetPetitionRequest {
        key: Some(Key::CaseNumber("2026-1".into())),
    };
    assert_eq!(
        client
            .get_petition(malformed)
            .await
            .expect_err("malformed")
            .code(),
        Code::InvalidArgument
    );
    let missing = GetPetitionRequest { key: None };
    assert_eq!(
        client
            .get_petition(missing)
            .await
            .expect_err("no key")
            .code(),
        Code::InvalidArgument
    );
}
