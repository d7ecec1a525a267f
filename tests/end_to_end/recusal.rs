//! Recusal (回避, Art 28): a staff member with a declared interest in a case, or in a unit's
//! cases, is refused it in every service (audited), finds it missing from every list, and is
//! not given it to handle; once the interest is withdrawn, the case is theirs again.

use std::time::Duration;

use tonic::Code;
use xinfang_platform::auth::Claims;
use xinfang_platform::auth::Role;
use xinfang_proto::intake::v1::{
    CorrectPetitionRequest, GetPetitionRequest, ListCorrectionsRequest, get_petition_request::Key,
    intake_service_client::IntakeServiceClient,
};
use xinfang_proto::routing::v1::{
    GetRoutingDecisionRequest, RouteCaseRequest, routing_service_client::RoutingServiceClient,
};
use xinfang_proto::supervision::v1::{
    AssignLeaderRequest, DeclareRecusalRequest, GetCaseTimelineRequest, LeaderLevel,
    WithdrawRecusalRequest, supervision_service_client::SupervisionServiceClient,
};
use xinfang_proto::v1::RoutingDisposition;
use xinfang_testkit::auth;
use xinfang_testkit::{Backend, Stack, Svc, sample};

use crate::support;

/// A token for the named staff member.
fn token_of(subject: &str, roles: &[Role], units: &[&str]) -> String {
    auth::sign(&Claims {
        sub: subject.to_owned(),
        ..auth::claims(roles, units)
    })
}

/// The codes each service answers `token` for the case: intake, routing, supervision.
async fn reads(stack: &Stack, token: &str, case_id: &str) -> [Code; 3] {
    let code = |result: Result<(), tonic::Status>| result.err().map_or(Code::Ok, |s| s.code());
    let intake = IntakeServiceClient::new(auth::authed(&stack.grpc_url(Svc::Intake), token))
        .get_petition(GetPetitionRequest {
            key: Some(Key::CaseId(case_id.to_owned())),
        })
        .await
        .map(|_| ());
    let routing = RoutingServiceClient::new(auth::authed(&stack.grpc_url(Svc::Routing), token))
        .get_routing_decision(GetRoutingDecisionRequest {
            case_id: case_id.to_owned(),
        })
        .await
        .map(|_| ());
    let supervision =
        SupervisionServiceClient::new(auth::authed(&stack.grpc_url(Svc::Supervision), token))
            .get_case_timeline(GetCaseTimelineRequest {
                case_id: case_id.to_owned(),
            })
            .await
            .map(|_| ());
    [code(intake), code(routing), code(supervision)]
}

/// Waits until every service answers `expected`.
async fn settles_to(stack: &Stack, token: &str, case_id: &str, expected: [Code; 3]) {
    let deadline = tokio::time::Instant::now() + support::SETTLE;
    loop {
        let got = reads(stack, token, case_id).await;
        if got == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {expected:?}, got {got:?}:\n{}",
            stack.log_tails(20)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_declared_interest_keeps_the_person_from_the_case_in_every_service_until_withdrawn() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    // Samples 0 and 2 go to 赵村镇 and 东城街道.
    let zhaocun = support::submit(&mut intake, sample::create(0))
        .await
        .case_id;
    let dongcheng = support::submit(&mut intake, sample::create(2))
        .await
        .case_id;
    let clerk = token_of("clerk-li", &[Role::Registrar], &[]);
    let handler = token_of("handler-wu", &[Role::UnitHandler], &["zhaocun"]);
    settles_to(&stack, &clerk, &zhaocun, [Code::Ok; 3]).await;
    settles_to(&stack, &handler, &zhaocun, [Code::Ok; 3]).await;

    // The clerk declared an interest in the one case; the handler in 赵村镇's cases.
    let mut bureau = support::supervision(&stack).await;
    let declared = bureau
        .declare_recusal(DeclareRecusalRequest {
            subject: "clerk-li".into(),
            case_id: zhaocun.clone(),
            reason: "信访人系其近亲属".into(),
            ..Default::default()
        })
        .await
        .expect("declared")
        .into_inner();
    bureau
        .declare_recusal(DeclareRecusalRequest {
            subject: "handler-wu".into(),
            unit_code: "zhaocun".into(),
            reason: "被反映事项涉及本人".into(),
            ..Default::default()
        })
        .await
        .expect("declared");
    let both = bureau
        .declare_recusal(DeclareRecusalRequest {
            subject: "clerk-li".into(),
            case_id: zhaocun.clone(),
            unit_code: "zhaocun".into(),
            reason: "x".into(),
        })
        .await
        .expect_err("a case or a unit, not both");
    assert_eq!(both.code(), Code::InvalidArgument);

    settles_to(&stack, &clerk, &zhaocun, [Code::PermissionDenied; 3]).await;
    settles_to(&stack, &handler, &zhaocun, [Code::PermissionDenied; 3]).await;
    assert_eq!(reads(&stack, &clerk, &dongcheng).await, [Code::Ok; 3]);
    assert_eq!(support::listed(&stack, &clerk, &zhaocun).await, [false; 3]);
    assert_eq!(support::listed(&stack, &clerk, &dongcheng).await, [true; 3]);
    assert_eq!(
        support::listed(&stack, &handler, &zhaocun).await,
        [false; 3]
    );
    for svc in [Svc::Intake, Svc::Routing, Svc::Supervision] {
        let entries = support::audited(&stack, svc, &zhaocun).await;
        assert!(
            entries
                .iter()
                .any(|(subject, _, _, allowed)| subject == "clerk-li" && !allowed),
            "{svc:?}: the refusal is audited: {entries:?}"
        );
    }

    // Every service seals its audit rows into a chain that verifies.
    for svc in [Svc::Intake, Svc::Routing, Svc::Supervision] {
        let db = sea_orm::Database::connect(stack.database_url(svc))
            .await
            .expect("the service's database");
        let deadline = tokio::time::Instant::now() + support::SETTLE;
        loop {
            match xinfang_platform::auth::seal::verify(&db)
                .await
                .expect("verify")
            {
                xinfang_platform::auth::seal::Verification::Intact {
                    sealed, unsealed, ..
                } if sealed > 0 && unsealed == 0 => {
                    break;
                }
                xinfang_platform::auth::seal::Verification::Broken { entry_id, why, .. } => {
                    panic!("{svc:?}: the audit chain broke at {entry_id}: {why}");
                }
                _ => {}
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{svc:?}: never sealed"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        db.close().await.ok();
    }

    // Nor is it given to them to handle: the clerk does not route it, a leader with an
    // interest is not assigned it.
    let routed = RoutingServiceClient::new(auth::authed(&stack.grpc_url(Svc::Routing), &clerk))
        .route_case(RouteCaseRequest {
            case_id: zhaocun.clone(),
            unit_code: "dongcheng".into(),
            disposition: RoutingDisposition::Forward.into(),
            reason: "改派".into(),
            ..Default::default()
        })
        .await
        .expect_err("recused");
    assert_eq!(routed.code(), Code::PermissionDenied);
    // Nor does the clerk correct its registration, or read what was corrected.
    let mut clerk_intake =
        IntakeServiceClient::new(auth::authed(&stack.grpc_url(Svc::Intake), &clerk));
    let corrected = clerk_intake
        .correct_petition(CorrectPetitionRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            case_id: zhaocun.clone(),
            reason: "更正类别".into(),
            matter_category: Some("housing".into()),
            ..Default::default()
        })
        .await
        .expect_err("recused");
    assert_eq!(corrected.code(), Code::PermissionDenied);
    let history = clerk_intake
        .list_corrections(ListCorrectionsRequest {
            case_id: zhaocun.clone(),
        })
        .await
        .expect_err("recused");
    assert_eq!(history.code(), Code::PermissionDenied);
    bureau
        .declare_recusal(DeclareRecusalRequest {
            subject: "leader-wang".into(),
            case_id: zhaocun.clone(),
            reason: "其亲属系被反映人".into(),
            ..Default::default()
        })
        .await
        .expect("declared");
    let assigned = bureau
        .assign_leader(AssignLeaderRequest {
            case_id: zhaocun.clone(),
            leader: "leader-wang".into(),
            level: LeaderLevel::City.into(),
            plan: "包案化解".into(),
        })
        .await
        .expect_err("recused leader");
    assert_eq!(assigned.code(), Code::FailedPrecondition);

    // Nor does a clerk send a case to a unit they declared an interest in.
    bureau
        .declare_recusal(DeclareRecusalRequest {
            subject: "clerk-zhang".into(),
            unit_code: "dongcheng".into(),
            reason: "其配偶在东城街道任职".into(),
            ..Default::default()
        })
        .await
        .expect("declared");
    let zhang = token_of("clerk-zhang", &[Role::Registrar], &[]);
    settles_to(&stack, &zhang, &dongcheng, [Code::PermissionDenied; 3]).await;
    let towards = RoutingServiceClient::new(auth::authed(&stack.grpc_url(Svc::Routing), &zhang))
        .route_case(RouteCaseRequest {
            case_id: zhaocun.clone(),
            unit_code: "dongcheng".into(),
            disposition: RoutingDisposition::Forward.into(),
            reason: "改派".into(),
            ..Default::default()
        })
        .await
        .expect_err("towards a unit of interest");
    assert_eq!(towards.code(), Code::PermissionDenied);

    // A service is no staff member; no one lifts their own declared interest.
    let service = bureau
        .declare_recusal(DeclareRecusalRequest {
            subject: "routing".into(),
            case_id: zhaocun.clone(),
            reason: "x".into(),
            ..Default::default()
        })
        .await
        .expect_err("a service");
    assert_eq!(service.code(), Code::InvalidArgument);
    let own = bureau
        .declare_recusal(DeclareRecusalRequest {
            subject: "test-registrar-supervisor".into(),
            case_id: dongcheng.clone(),
            reason: "信访人系其同学".into(),
            ..Default::default()
        })
        .await
        .expect("declared")
        .into_inner();
    let lifted = bureau
        .withdraw_recusal(WithdrawRecusalRequest {
            recusal_id: own.recusal_id,
            reason: "自行撤回".into(),
        })
        .await
        .expect_err("not by themselves");
    assert_eq!(lifted.code(), Code::PermissionDenied);

    // Withdrawn, the case is the clerk's again.
    bureau
        .withdraw_recusal(WithdrawRecusalRequest {
            recusal_id: declared.recusal_id,
            reason: "经核实不存在利害关系".into(),
        })
        .await
        .expect("withdrawn");
    settles_to(&stack, &clerk, &zhaocun, [Code::Ok; 3]).await;
    assert_eq!(
        reads(&stack, &handler, &zhaocun).await,
        [Code::PermissionDenied; 3]
    );
}
