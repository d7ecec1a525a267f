//! A clerk routes by hand: a case held for triage goes where the clerk sends it (never to
//! the accused), an automatic decision is overridden with a reason, and every service
//! follows the newest revision — the old unit loses the case, the new one gains it. A
//! statutory-channel matter is diverted with a guidance notice.

use std::time::Duration;

use prost::Message;
use tonic::Code;
use xinfang_platform::auth::Role;
use xinfang_proto::intake::v1::{
    GetPetitionRequest, get_petition_request::Key, intake_service_client::IntakeServiceClient,
};
use xinfang_proto::routing::v1::PetitionRouted;
use xinfang_proto::routing::v1::{
    GetRoutingDecisionRequest, ListTriageRequest, RouteCaseRequest,
    routing_service_client::RoutingServiceClient,
};
use xinfang_proto::statistics::v1::GetOverviewRequest;
use xinfang_proto::supervision::v1::{
    self as api, GetCaseTimelineRequest, RecordCaseActionRequest, record_case_action_request,
    record_case_action_request::Action, supervision_service_client::SupervisionServiceClient,
};
use xinfang_proto::v1::{CaseStage, RoutingDisposition};
use xinfang_testkit::auth;
use xinfang_testkit::{Backend, Stack, Svc, sample};

use crate::support;

/// What a unit handler of `unit` may read of the case, in each service.
async fn visible_to(stack: &Stack, unit: &str, case_id: &str) -> [bool; 3] {
    let token = auth::token(&[Role::UnitHandler], &[unit]);
    let intake = IntakeServiceClient::new(auth::authed(&stack.grpc_url(Svc::Intake), &token))
        .get_petition(GetPetitionRequest {
            key: Some(Key::CaseId(case_id.to_owned())),
        })
        .await
        .is_ok();
    let routing = RoutingServiceClient::new(auth::authed(&stack.grpc_url(Svc::Routing), &token))
        .get_routing_decision(GetRoutingDecisionRequest {
            case_id: case_id.to_owned(),
        })
        .await
        .is_ok();
    let supervision =
        SupervisionServiceClient::new(auth::authed(&stack.grpc_url(Svc::Supervision), &token))
            .get_case_timeline(GetCaseTimelineRequest {
                case_id: case_id.to_owned(),
            })
            .await
            .is_ok();
    [intake, routing, supervision]
}

/// Waits until every service follows the case to `unit`.
async fn followed_to(stack: &Stack, unit: &str, case_id: &str) {
    let deadline = tokio::time::Instant::now() + support::SETTLE;
    while visible_to(stack, unit, case_id).await != [true, true, true] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the services never followed the case to {unit}:\n{}",
            stack.log_tails(20)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn route_request(case_id: &str, unit: &str, disposition: RoutingDisposition) -> RouteCaseRequest {
    RouteCaseRequest {
        case_id: case_id.to_owned(),
        unit_code: unit.to_owned(),
        disposition: disposition.into(),
        reason: "经核查，该事项由此单位负责".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_overridden_decision_moves_the_case_in_every_service() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    // Sample 0: a land matter in 赵村镇, forwarded there by the rules.
    let case = support::submit(&mut intake, sample::create(0))
        .await
        .case_id;
    followed_to(&stack, "zhaocun", &case).await;
    assert_eq!(visible_to(&stack, "dongcheng", &case).await, [false; 3]);

    let mut routing = support::routing(&stack).await;
    let status = routing
        .route_case(RouteCaseRequest {
            reason: String::new(),
            ..route_request(&case, "dongcheng", RoutingDisposition::Forward)
        })
        .await
        .expect_err("a reason is required");
    assert_eq!(status.code(), Code::InvalidArgument);
    let moved = routing
        .route_case(route_request(
            &case,
            "dongcheng",
            RoutingDisposition::Forward,
        ))
        .await
        .expect("overridden")
        .into_inner();
    assert_eq!(moved.revision, 2);
    assert_eq!(moved.unit_code, "dongcheng");
    assert_eq!(moved.rule, "by-hand");
    assert_ne!(moved.decided_by, "rules");

    followed_to(&stack, "dongcheng", &case).await;
    assert_eq!(visible_to(&stack, "zhaocun", &case).await, [false; 3]);
    // The clerk's reason stays in routing (read over gRPC): no event carries a clerk's
    // words, which may name people.
    let jetstream = async_nats::jetstream::new(stack.nats.client().await.expect("connect"));
    // The directory, revisions 1 and 2, and the notice to 赵村镇 that the case left it.
    let routed = xinfang_testkit::stored_messages(
        &jetstream,
        xinfang_proto::subjects::ROUTING_STREAM.name,
        4,
    )
    .await;
    let moved: Vec<PetitionRouted> = routed
        .iter()
        .filter(|message| {
            message.subject.as_str() == "xinfang.v1.routing.unit.zhaocun.petition.moved"
        })
        .filter_map(|message| PetitionRouted::decode(message.payload.clone()).ok())
        .collect();
    assert_eq!(moved.len(), 1);
    assert_eq!(
        (
            moved[0].unit_code.as_str(),
            moved[0].previous_unit_code.as_str(),
            moved[0].reason.as_str()
        ),
        ("dongcheng", "zhaocun", "")
    );
    let revision_2: Vec<PetitionRouted> = routed
        .iter()
        .filter(|message| message.subject.ends_with(".petition.routed"))
        .filter_map(|message| PetitionRouted::decode(message.payload.clone()).ok())
        .filter(|event| event.case_id == case && event.revision == 2)
        .collect();
    assert_eq!(revision_2.len(), 1);
    assert_eq!(revision_2[0].reason, "");
    assert_eq!(revision_2[0].unit_code, "dongcheng");
    let timeline = support::supervision(&stack)
        .await
        .get_case_timeline(GetCaseTimelineRequest {
            case_id: case.clone(),
        })
        .await
        .expect("timeline")
        .into_inner();
    assert_eq!(timeline.unit_code, "dongcheng");
    assert_eq!(timeline.stage(), CaseStage::AwaitingSignFor);
    let overview = support::settled_overview(&stack, 1).await;
    assert_eq!(support::count_of(&overview.by_unit, "dongcheng"), 1);
    assert_eq!(support::count_of(&overview.by_unit, "zhaocun"), 0);

    // Once routed by hand, the case moves again only through the unit's objection.
    let status = routing
        .route_case(route_request(&case, "zhaocun", RoutingDisposition::Forward))
        .await
        .expect_err("not twice by hand");
    assert_eq!(status.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn a_held_accusation_is_routed_by_a_clerk_but_never_to_the_accused() {
    let stack = Stack::start(Backend::Sqlite)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    // A land matter in 赵村镇 accusing 赵村镇 itself: held for a clerk.
    let mut petition = sample::petition(0);
    petition.accused_unit_code = "zhaocun".into();
    let case = support::submit(&mut intake, support::create(petition))
        .await
        .case_id;
    let mut routing = support::routing(&stack).await;
    let held = xinfang_testkit::eventually(support::SETTLE, || {
        let mut routing = routing.clone();
        async move {
            let held = routing
                .list_triage(ListTriageRequest::default())
                .await
                .ok()?
                .into_inner()
                .decisions;
            (!held.is_empty()).then_some(held)
        }
    })
    .await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].case_id, case);
    assert!(held[0].reason.contains("accused"), "{}", held[0].reason);

    for unit in ["zhaocun", "zhaocun-tiefo"] {
        let status = routing
            .route_case(route_request(&case, unit, RoutingDisposition::Forward))
            .await
            .expect_err("never to the accused");
        assert_eq!(status.code(), Code::FailedPrecondition, "{unit}");
    }
    let routed = routing
        .route_case(route_request(&case, "jiwei", RoutingDisposition::Assign))
        .await
        .expect("routed")
        .into_inner();
    assert_eq!(routed.disposition(), RoutingDisposition::Assign);
    assert!(routed.assignment_deadline.is_some());
    followed_to(&stack, "jiwei", &case).await;
    assert_eq!(visible_to(&stack, "zhaocun", &case).await, [false; 3]);
    assert!(
        routing
            .list_triage(ListTriageRequest::default())
            .await
            .expect("listed")
            .into_inner()
            .decisions
            .is_empty()
    );
}

#[tokio::test]
async fn a_statutory_channel_matter_is_diverted_with_a_guidance_notice() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    let mut petition = sample::petition(0);
    petition.matter_category = "labour-dispute".into();
    let case = support::submit(&mut intake, support::create(petition))
        .await
        .case_id;
    support::settled_overview(&stack, 1).await;
    let decision = support::routing(&stack)
        .await
        .get_routing_decision(GetRoutingDecisionRequest {
            case_id: case.clone(),
        })
        .await
        .expect("decided")
        .into_inner();
    assert_eq!(decision.disposition(), RoutingDisposition::Divert);
    assert_eq!(decision.unit_code, "laodong-zhongcai");
    assert!(
        decision.guidance_notice.contains("劳动争议调解仲裁法"),
        "{}",
        decision.guidance_notice
    );
    let timeline = support::supervision(&stack)
        .await
        .get_case_timeline(GetCaseTimelineRequest { case_id: case })
        .await
        .expect("timeline")
        .into_inner();
    assert_eq!(timeline.stage(), CaseStage::Diverted);

    // The clerk picks a category from routing's own list: the statutory ones say what
    // their guidance notices cite.
    let listed = support::routing(&stack)
        .await
        .list_categories(xinfang_proto::routing::v1::ListCategoriesRequest {})
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(listed.version, decision.directory_version);
    let labour = listed
        .categories
        .iter()
        .find(|category| category.code == "labour-dispute")
        .expect("listed");
    assert_eq!(labour.handled_by, "laodong-zhongcai");
    assert!(labour.legal_basis.contains("劳动争议调解仲裁法"));
    let land = listed
        .categories
        .iter()
        .find(|category| category.code == "land-acquisition")
        .expect("listed");
    assert_eq!(land.handled_by, "", "handled where it arose");
}

/// Records a step of the case's procedure in supervision.
async fn record(
    stack: &Stack,
    token: &str,
    case_id: &str,
    action: record_case_action_request::Action,
) -> Result<(), tonic::Status> {
    SupervisionServiceClient::new(auth::authed(&stack.grpc_url(Svc::Supervision), token))
        .record_case_action(RecordCaseActionRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            case_id: case_id.to_owned(),
            occurred_on: None,
            action: Some(action),
        })
        .await
        .map(|_| ())
}

/// Waits until supervision has the case awaiting its unit's sign-for.
async fn awaiting_sign_for(stack: &Stack, case_id: &str) {
    let mut supervision = support::supervision(stack).await;
    let deadline = tokio::time::Instant::now() + support::SETTLE;
    loop {
        if let Ok(timeline) = supervision
            .get_case_timeline(GetCaseTimelineRequest {
                case_id: case_id.to_owned(),
            })
            .await
            && timeline.get_ref().stage() == CaseStage::AwaitingSignFor
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the case never reached its unit:\n{}",
            stack.log_tails(20)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_case_signed_for_moves_only_on_an_upheld_objection_and_the_first_routing_counts_as_wrong()
{
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    let case = support::submit(&mut intake, sample::create(0))
        .await
        .case_id;
    awaiting_sign_for(&stack, &case).await;
    let unit = auth::token(&[Role::UnitHandler], &["zhaocun"]);
    let bureau = auth::token(&[Role::Supervisor], &[]);
    record(
        &stack,
        &unit,
        &case,
        Action::SignFor(api::SignFor {
            signed_by: "赵村镇信访办 李四".into(),
        }),
    )
    .await
    .expect("signed for");

    // Signed for: the bureau no longer moves it at will; routing asked supervision.
    let mut routing = support::routing(&stack).await;
    let refused = routing
        .route_case(route_request(
            &case,
            "dongcheng",
            RoutingDisposition::Forward,
        ))
        .await
        .expect_err("signed for");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("signed for at zhaocun"),
        "{}",
        refused.message()
    );

    // The unit objects within its window; the bureau upholds the objection.
    record(
        &stack,
        &unit,
        &case,
        Action::Object(api::ObjectToRouting {
            reasons: "该地块属东城街道辖区，非本镇事项".into(),
        }),
    )
    .await
    .expect("objected");
    let pending = routing
        .route_case(route_request(
            &case,
            "dongcheng",
            RoutingDisposition::Forward,
        ))
        .await
        .expect_err("the objection is not decided yet");
    assert_eq!(pending.code(), Code::FailedPrecondition);

    // Another case (another petitioner's, same place and matter): its objection rejected,
    // it stays with 赵村镇, which may not object again.
    let kept = support::submit(&mut intake, sample::create(6))
        .await
        .case_id;
    awaiting_sign_for(&stack, &kept).await;
    let sign = || {
        Action::SignFor(api::SignFor {
            signed_by: "赵村镇信访办 李四".into(),
        })
    };
    let object = || {
        Action::Object(api::ObjectToRouting {
            reasons: "非本镇事项".into(),
        })
    };
    record(&stack, &unit, &kept, sign())
        .await
        .expect("signed for");
    record(&stack, &unit, &kept, object())
        .await
        .expect("objected");
    record(
        &stack,
        &bureau,
        &kept,
        Action::DecideObjection(api::DecideObjection {
            upheld: false,
            reasons: "经核实，属本镇辖区".into(),
        }),
    )
    .await
    .expect("rejected");
    let stays = routing
        .route_case(route_request(
            &kept,
            "dongcheng",
            RoutingDisposition::Forward,
        ))
        .await
        .expect_err("the objection was rejected");
    assert_eq!(stays.code(), Code::FailedPrecondition);
    let again = record(&stack, &unit, &kept, object())
        .await
        .expect_err("one objection per routing");
    assert_eq!(again.code(), Code::FailedPrecondition);
    record(
        &stack,
        &bureau,
        &case,
        Action::DecideObjection(api::DecideObjection {
            upheld: true,
            reasons: "经核实，属东城街道辖区".into(),
        }),
    )
    .await
    .expect("upheld");

    let moved = routing
        .route_case(route_request(
            &case,
            "dongcheng",
            RoutingDisposition::Forward,
        ))
        .await
        .expect("re-routed after the objection")
        .into_inner();
    assert_eq!(moved.revision, 2);
    assert_eq!(moved.unit_code, "dongcheng");
    assert_eq!(moved.previous_unit_code, "zhaocun");
    assert!(moved.after_objection);
    followed_to(&stack, "dongcheng", &case).await;
    assert_eq!(visible_to(&stack, "zhaocun", &case).await, [false; 3]);
    let handler = |unit: &str| auth::token(&[Role::UnitHandler], &[unit]);
    assert_eq!(
        support::listed(&stack, &handler("zhaocun"), &case).await,
        [false; 3]
    );
    assert_eq!(
        support::listed(&stack, &handler("dongcheng"), &case).await,
        [true; 3]
    );

    // The new unit signs for it afresh; the first routing counts against 赵村镇.
    awaiting_sign_for(&stack, &case).await;
    let deadline = tokio::time::Instant::now() + support::SETTLE;
    loop {
        let overview = support::statistics(&stack)
            .await
            .get_overview(GetOverviewRequest::default())
            .await
            .expect("figures")
            .into_inner();
        if support::count_of(&overview.wrong_routings_by_unit, "zhaocun") == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the wrong routing was never counted: {overview:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_co_handling_unit_reads_the_case_beside_the_lead_in_every_service() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    let case = support::submit(&mut intake, sample::create(0))
        .await
        .case_id;
    awaiting_sign_for(&stack, &case).await;
    assert_eq!(visible_to(&stack, "renshe", &case).await, [false; 3]);
    let assigned = support::routing(&stack)
        .await
        .route_case(RouteCaseRequest {
            co_handling_units: vec!["renshe".into()],
            ..route_request(&case, "dongcheng", RoutingDisposition::Assign)
        })
        .await
        .expect("assigned with a co-handling unit")
        .into_inner();
    assert_eq!(assigned.co_handling_units, ["renshe"]);
    assert!(assigned.assignment_deadline.is_some());
    followed_to(&stack, "dongcheng", &case).await;
    followed_to(&stack, "renshe", &case).await;
    assert_eq!(visible_to(&stack, "zhaocun", &case).await, [false; 3]);

    // It reads the case, but acts only through the lead: it does not sign for it.
    let co_handler = auth::token(&[Role::UnitHandler], &["renshe"]);
    let signed = record(
        &stack,
        &co_handler,
        &case,
        Action::SignFor(api::SignFor {
            signed_by: "人社局 王五".into(),
        }),
    )
    .await
    .expect_err("the lead signs for it");
    assert_eq!(signed.code(), Code::PermissionDenied);

    let jetstream = async_nats::jetstream::new(stack.nats.client().await.expect("connect"));
    let stored = xinfang_testkit::stored_messages(
        &jetstream,
        xinfang_proto::subjects::ROUTING_STREAM.name,
        5,
    )
    .await;
    assert!(
        stored.iter().any(|message| message.subject.as_str()
            == "xinfang.v1.routing.unit.renshe.petition.cohandled"),
        "the co-handling unit is told on its own subject"
    );
}
