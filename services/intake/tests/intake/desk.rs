//! Registration at a unit's own desk (首接首办): the unit registrar registers for its unit,
//! and the case carries that unit on its event, for routing.

use prost::Message;
use tonic::Code;
use xinfang_platform::auth::Role;
use xinfang_proto::intake::v1::{
    CreatePetitionRequest, PetitionRegistered, intake_service_client::IntakeServiceClient,
};
use xinfang_testkit::auth;

use super::support::{IntakeUnderTest, create, visit};

fn at_desk(registering_unit: &str) -> CreatePetitionRequest {
    CreatePetitionRequest {
        registering_unit: registering_unit.into(),
        ..create(visit("在镇接访窗口登记"))
    }
}

#[tokio::test]
async fn a_unit_registrar_registers_for_its_own_unit_and_the_event_says_which() {
    let intake = IntakeUnderTest::on_postgres().await;
    let client_of = |units: &[&str]| {
        IntakeServiceClient::new(auth::authed(
            &intake.grpc_url,
            &auth::token(&[Role::UnitRegistrar], units),
        ))
    };
    let registered = client_of(&["zhaocun"])
        .create_petition(at_desk(""))
        .await
        .expect("registered at 赵村镇's desk")
        .into_inner();
    assert_eq!(registered.registered_at_unit, "zhaocun");
    let named = client_of(&["zhaocun", "nanshi"])
        .create_petition(at_desk("nanshi"))
        .await
        .expect("registered at 南市街道's desk")
        .into_inner();
    assert_eq!(named.registered_at_unit, "nanshi");
    // The same person's same matter: a repeat, but a desk scoped to its units is not told
    // which case it repeats (it may be a case outside its units).
    let relations = named.relations.clone().expect("relations");
    assert!(relations.repeat);
    assert_eq!(relations.repeat_of_case_number, "");
    assert!(
        named
            .notices
            .iter()
            .all(|n| !n.contains(&registered.case_number)),
        "{:?}",
        named.notices
    );

    let events: Vec<String> = intake
        .published(2)
        .await
        .iter()
        .map(|message| {
            PetitionRegistered::decode(message.payload.clone())
                .expect("event")
                .registered_at_unit
        })
        .collect();
    assert_eq!(events, ["zhaocun", "nanshi"]);

    for (units, request, why) in [
        (&["zhaocun", "nanshi"][..], at_desk(""), "name the unit"),
        (
            &["zhaocun"][..],
            at_desk("dongcheng"),
            "not one of the caller's units",
        ),
    ] {
        let refused = client_of(units)
            .create_petition(request)
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), Code::InvalidArgument);
        assert!(refused.message().contains(why), "{}", refused.message());
    }
    // The bureau's own registrations belong to no desk.
    let bureau = intake
        .client
        .clone()
        .create_petition(at_desk("zhaocun"))
        .await
        .expect_err("the bureau names no desk");
    assert_eq!(bureau.code(), Code::InvalidArgument);
    assert_eq!(intake.petitions_stored().await, 2);
}
