//! 首接首办: a petition registered at a town's own desk about its own territory stays with
//! that town, even when its matter would otherwise go to a department, and the town reads
//! it as its own.

use tonic::Code;
use xinfang_platform::auth::Role;
use xinfang_proto::intake::v1::{
    GetPetitionRequest, get_petition_request::Key, intake_service_client::IntakeServiceClient,
};
use xinfang_proto::routing::v1::GetRoutingDecisionRequest;
use xinfang_proto::v1 as proto;
use xinfang_testkit::{Backend, Stack, Svc, auth, sample};

use crate::support;

#[tokio::test]
async fn a_petition_registered_at_a_towns_desk_is_that_towns_case() {
    let stack = Stack::start(Backend::Sqlite)
        .await
        .expect("the stack starts");
    let desk_token = auth::token(&[Role::UnitRegistrar], &["zhaocun"]);
    let mut desk =
        IntakeServiceClient::new(auth::authed(&stack.grpc_url(Svc::Intake), &desk_token));
    // A housing matter (住建局's by the category table) arising in 赵村镇.
    let registered = desk
        .create_petition(support::create(proto::Petition {
            territory_code: "zhaocun".into(),
            ..sample::petition(4)
        }))
        .await
        .expect("registered at 赵村镇's desk")
        .into_inner();
    assert_eq!(registered.registered_at_unit, "zhaocun");

    let routing = support::routing(&stack).await;
    let decision = xinfang_testkit::eventually(support::SETTLE, || {
        let mut routing = routing.clone();
        let case_id = registered.case_id.clone();
        async move {
            routing
                .get_routing_decision(GetRoutingDecisionRequest { case_id })
                .await
                .ok()
                .map(|found| found.into_inner())
        }
    })
    .await;
    assert_eq!(
        (decision.unit_code.as_str(), decision.rule.as_str()),
        ("zhaocun", "first-contact")
    );

    // Routed to 赵村镇: its desk reads it as one of its cases; 东城街道's handler may not.
    let read = |token: String, case_id: String| {
        let url = stack.grpc_url(Svc::Intake);
        async move {
            IntakeServiceClient::new(auth::authed(&url, &token))
                .get_petition(GetPetitionRequest {
                    key: Some(Key::CaseId(case_id)),
                })
                .await
        }
    };
    let own = xinfang_testkit::eventually(support::SETTLE, || {
        let (token, case_id) = (desk_token.clone(), registered.case_id.clone());
        let read = &read;
        async move { read(token, case_id).await.ok() }
    })
    .await;
    assert_eq!(own.into_inner().case_id, registered.case_id);
    let other = read(
        auth::token(&[Role::UnitHandler], &["dongcheng"]),
        registered.case_id.clone(),
    )
    .await
    .expect_err("another unit's case");
    assert_eq!(other.code(), Code::PermissionDenied);
}
