//! Who may do what to which case, on the running services: every role against every RPC,
//! on a case of the caller's own unit and on another unit's, each cell an exact status code.

use std::time::Duration;

use tonic::Code;
use xinfang_platform::auth::Role;
use xinfang_proto::intake::v1::{
    GetPetitionRequest, ListPetitionsRequest, get_petition_request::Key,
    intake_service_client::IntakeServiceClient,
};
use xinfang_proto::routing::v1::{
    GetRoutingDecisionRequest, ListRoutingDecisionsRequest, ListUnitsRequest,
    routing_service_client::RoutingServiceClient,
};
use xinfang_proto::statistics::v1::{
    GetOverviewRequest, statistics_service_client::StatisticsServiceClient,
};
use xinfang_proto::supervision::v1::{
    GetCaseTimelineRequest, ListCaseTimelinesRequest,
    supervision_service_client::SupervisionServiceClient,
};
use xinfang_testkit::{Backend, Stack, Svc, auth, sample};

use crate::support;

/// Town A is 赵村镇 (sample 0 is routed there); town B is 东城街道 (sample 2).
const TOWN_A: &str = "zhaocun";

#[derive(Debug, Clone, Copy)]
enum Rpc {
    CreatePetition,
    GetPetitionOwn,
    GetPetitionOther,
    GetPetitionMissing,
    ListPetitions,
    GetDecisionOwn,
    GetDecisionOther,
    ListDecisions,
    ListUnits,
    GetTimelineOwn,
    GetTimelineOther,
    ListTimelines,
    GetOverview,
}

const RPCS: [Rpc; 13] = [
    Rpc::CreatePetition,
    Rpc::GetPetitionOwn,
    Rpc::GetPetitionOther,
    Rpc::GetPetitionMissing,
    Rpc::ListPetitions,
    Rpc::GetDecisionOwn,
    Rpc::GetDecisionOther,
    Rpc::ListDecisions,
    Rpc::ListUnits,
    Rpc::GetTimelineOwn,
    Rpc::GetTimelineOther,
    Rpc::ListTimelines,
    Rpc::GetOverview,
];

const OK: Code = Code::Ok;
const DENY: Code = Code::PermissionDenied;
const NONE: Code = Code::NotFound;

/// The expected code of every cell, in the order of `RPCS`. Written out, not derived from
/// the policy table, so that a change to the policy shows up here.
const EXPECTED: [(Role, [Code; 13]); 7] = [
    //                     create get-own get-other missing list  dec-own dec-other dec-list units tl-own tl-other tl-list overview
    (
        Role::Registrar,
        [OK, OK, OK, NONE, OK, OK, OK, OK, OK, OK, OK, OK, DENY],
    ),
    (
        Role::UnitHandler,
        [
            DENY, OK, DENY, DENY, OK, OK, DENY, OK, OK, OK, DENY, OK, DENY,
        ],
    ),
    (
        Role::Supervisor,
        [OK, OK, OK, NONE, OK, OK, OK, OK, OK, OK, OK, OK, OK],
    ),
    (
        Role::Leader,
        [DENY, OK, OK, NONE, OK, OK, OK, OK, OK, OK, OK, OK, OK],
    ),
    (
        Role::Analyst,
        [
            DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, OK, DENY, DENY, DENY, OK,
        ],
    ),
    (
        Role::Administrator,
        [
            DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, OK, DENY, DENY, DENY, DENY,
        ],
    ),
    // Routing asks supervision where a case stands, with its own identity: nothing else.
    (
        Role::Service,
        [
            DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, OK, OK, OK, DENY, DENY,
        ],
    ),
];

struct Cases {
    own: String,
    other: String,
}

/// Calls one RPC as `token`; the response (printed) or the status.
async fn call(
    stack: &Stack,
    token: &str,
    rpc: Rpc,
    cases: &Cases,
) -> Result<String, tonic::Status> {
    let intake = || IntakeServiceClient::new(auth::authed(&stack.grpc_url(Svc::Intake), token));
    let routing = || RoutingServiceClient::new(auth::authed(&stack.grpc_url(Svc::Routing), token));
    let supervision =
        || SupervisionServiceClient::new(auth::authed(&stack.grpc_url(Svc::Supervision), token));
    let get_petition = |case_id: &str| GetPetitionRequest {
        key: Some(Key::CaseId(case_id.to_owned())),
    };
    let printed = |response: &dyn std::fmt::Debug| format!("{response:?}");
    Ok(match rpc {
        Rpc::CreatePetition => printed(&intake().create_petition(sample::create(4)).await?),
        Rpc::GetPetitionOwn => printed(&intake().get_petition(get_petition(&cases.own)).await?),
        Rpc::GetPetitionOther => printed(&intake().get_petition(get_petition(&cases.other)).await?),
        Rpc::GetPetitionMissing => printed(
            &intake()
                .get_petition(get_petition(&uuid::Uuid::now_v7().to_string()))
                .await?,
        ),
        Rpc::ListPetitions => printed(
            &intake()
                .list_petitions(ListPetitionsRequest::default())
                .await?,
        ),
        Rpc::GetDecisionOwn => printed(
            &routing()
                .get_routing_decision(GetRoutingDecisionRequest {
                    case_id: cases.own.clone(),
                })
                .await?,
        ),
        Rpc::GetDecisionOther => printed(
            &routing()
                .get_routing_decision(GetRoutingDecisionRequest {
                    case_id: cases.other.clone(),
                })
                .await?,
        ),
        Rpc::ListDecisions => printed(
            &routing()
                .list_routing_decisions(ListRoutingDecisionsRequest::default())
                .await?,
        ),
        Rpc::ListUnits => printed(&routing().list_units(ListUnitsRequest::default()).await?),
        Rpc::GetTimelineOwn => printed(
            &supervision()
                .get_case_timeline(GetCaseTimelineRequest {
                    case_id: cases.own.clone(),
                })
                .await?,
        ),
        Rpc::GetTimelineOther => printed(
            &supervision()
                .get_case_timeline(GetCaseTimelineRequest {
                    case_id: cases.other.clone(),
                })
                .await?,
        ),
        Rpc::ListTimelines => printed(
            &supervision()
                .list_case_timelines(ListCaseTimelinesRequest::default())
                .await?,
        ),
        Rpc::GetOverview => printed(
            &StatisticsServiceClient::new(auth::authed(&stack.grpc_url(Svc::Statistics), token))
                .get_overview(GetOverviewRequest {})
                .await?,
        ),
    })
}

/// A stack with one case routed to town A and one to town B, known to every service.
async fn two_towns() -> (Stack, Cases) {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    let own = support::submit(&mut intake, sample::create(0))
        .await
        .case_id;
    let other = support::submit(&mut intake, sample::create(2))
        .await
        .case_id;
    support::settled_overview(&stack, 2).await;
    let cases = Cases { own, other };
    // Intake learns the routing from routing's events too: wait until it has.
    let handler = auth::token(&[Role::UnitHandler], &[TOWN_A]);
    let deadline = tokio::time::Instant::now() + support::SETTLE;
    while call(&stack, &handler, Rpc::GetPetitionOwn, &cases)
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "intake never learnt the routing"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (stack, cases)
}

fn token_for(role: Role) -> String {
    match role {
        Role::UnitHandler => auth::token(&[role], &[TOWN_A]),
        _ => auth::token(&[role], &[]),
    }
}

#[tokio::test]
async fn every_role_gets_exactly_the_expected_code_on_every_rpc() {
    let (stack, cases) = two_towns().await;
    let mut wrong = Vec::new();
    for (role, expected) in EXPECTED {
        let token = token_for(role);
        for (rpc, expected) in RPCS.iter().zip(expected) {
            let got = match call(&stack, &token, *rpc, &cases).await {
                Ok(_) => Code::Ok,
                Err(status) => status.code(),
            };
            if got != expected {
                wrong.push(format!(
                    "{role:?} {rpc:?}: expected {expected:?}, got {got:?}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_town_handler_lists_only_its_own_cases() {
    let (stack, cases) = two_towns().await;
    let token = auth::token(&[Role::UnitHandler], &[TOWN_A]);
    for rpc in [Rpc::ListPetitions, Rpc::ListDecisions, Rpc::ListTimelines] {
        let listed = call(&stack, &token, rpc, &cases).await.expect("listed");
        assert!(
            listed.contains(&cases.own),
            "{rpc:?} misses town A's case: {listed}"
        );
        assert!(
            !listed.contains(&cases.other),
            "{rpc:?} shows town B's case: {listed}"
        );
    }
    // A handler whose token names no unit sees nothing, not everything.
    let unitless = auth::token(&[Role::UnitHandler], &[]);
    for rpc in [Rpc::ListPetitions, Rpc::ListDecisions, Rpc::ListTimelines] {
        let listed = call(&stack, &unitless, rpc, &cases).await.expect("listed");
        assert!(
            !listed.contains(&cases.own) && !listed.contains(&cases.other),
            "{rpc:?} shows a case to a handler of no unit: {listed}"
        );
    }
    let denied = call(&stack, &token, Rpc::GetPetitionOther, &cases)
        .await
        .expect_err("denied");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(
        denied.message(),
        "test-unit_handler may not see this case: it is not routed to one of the caller's units"
    );
}

#[tokio::test]
async fn every_read_of_a_case_is_audited_where_it_happens_allowed_or_denied() {
    let (stack, cases) = two_towns().await;
    let handler = auth::token(&[Role::UnitHandler], &[TOWN_A]);
    let _ = call(&stack, &handler, Rpc::GetTimelineOwn, &cases)
        .await
        .expect("allowed");
    let _ = call(&stack, &handler, Rpc::GetTimelineOther, &cases)
        .await
        .expect_err("denied");
    let _ = call(&stack, &handler, Rpc::GetDecisionOther, &cases)
        .await
        .expect_err("denied");
    let action = |rpc: &str| rpc.to_owned();
    assert_eq!(
        support::audited(&stack, Svc::Supervision, &cases.own).await,
        vec![(
            "test-unit_handler".to_owned(),
            "unit_handler".to_owned(),
            action("xinfang.supervision.v1.SupervisionService/GetCaseTimeline"),
            true
        )]
    );
    assert_eq!(
        support::audited(&stack, Svc::Supervision, &cases.other).await,
        vec![(
            "test-unit_handler".to_owned(),
            "unit_handler".to_owned(),
            action("xinfang.supervision.v1.SupervisionService/GetCaseTimeline"),
            false
        )]
    );
    assert_eq!(
        support::audited(&stack, Svc::Routing, &cases.other).await,
        vec![(
            "test-unit_handler".to_owned(),
            "unit_handler".to_owned(),
            action("xinfang.routing.v1.RoutingService/GetRoutingDecision"),
            false
        )]
    );
}

#[tokio::test]
async fn the_analyst_never_receives_a_petitioners_identity() {
    let (stack, cases) = two_towns().await;
    let token = auth::token(&[Role::Analyst], &[]);
    let mut identity = vec!["张三".to_owned(), "张*".to_owned(), "幸福路".to_owned()];
    for index in [0, 2] {
        identity.extend([sample::id_card_number(index), sample::phone(index)]);
    }
    for rpc in RPCS {
        let answer = match call(&stack, &token, rpc, &cases).await {
            Ok(response) => response,
            Err(status) => format!("{status:?}"),
        };
        for part in &identity {
            assert!(
                !answer.contains(part),
                "{rpc:?} gave the analyst {part:?}: {answer}"
            );
        }
    }
}
