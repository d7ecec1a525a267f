//! A registration corrected after routing: the wrong matter category puts the case back on
//! the clerk's triage list with why (the rules would now send it elsewhere), never moves it
//! by itself; the clerk re-routes it, or keeps it where it is. Statistics follows the
//! corrected facts.

use sea_orm::{ConnectionTrait, Statement};
use xinfang_proto::intake::v1::CorrectPetitionRequest;
use xinfang_proto::routing::v1::{GetRoutingDecisionRequest, ListTriageRequest, RouteCaseRequest};
use xinfang_proto::v1 as proto;
use xinfang_testkit::{Backend, Stack, Svc, eventually, sample};

use crate::support::{self, SETTLE};

fn correction(case_id: &str) -> CorrectPetitionRequest {
    CorrectPetitionRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        case_id: case_id.to_owned(),
        reason: "登记时误选了问题类别".into(),
        ..Default::default()
    }
}

/// The matter category statistics holds for a case.
async fn counted_category(stack: &Stack, case_number: &str) -> Option<String> {
    let db = sea_orm::Database::connect(stack.database_url(Svc::Statistics))
        .await
        .expect("connect to statistics' database");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            // A case number is digits and hyphens.
            format!("SELECT matter_category FROM case_record WHERE case_number = '{case_number}'"),
        ))
        .await
        .expect("read case_record")?;
    let category: Option<String> = row.try_get("", "matter_category").ok()?;
    db.close().await.ok();
    category
}

/// The case's routing decision, once `ready` says it is the one awaited.
async fn decision(
    stack: &Stack,
    case_id: &str,
    ready: fn(&proto::RoutingDecision) -> bool,
) -> proto::RoutingDecision {
    let routing = support::routing(stack).await;
    eventually(SETTLE, || {
        let mut routing = routing.clone();
        let case_id = case_id.to_owned();
        async move {
            let found = routing
                .get_routing_decision(GetRoutingDecisionRequest { case_id })
                .await
                .ok()?
                .into_inner();
            ready(&found).then_some(found)
        }
    })
    .await
}

#[tokio::test]
async fn a_corrected_category_puts_a_routed_case_back_before_a_clerk() {
    let stack = Stack::start(Backend::Sqlite)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    // A land matter in 赵村镇: the rules send it to 赵村镇.
    let petition = support::submit(&mut intake, sample::create(0)).await;
    let first = decision(&stack, &petition.case_id, |d| d.unit_code == "zhaocun").await;
    assert_eq!(first.review_reason, "");

    // Another street of the same town: the rules still say 赵村镇, nothing to look at.
    intake
        .correct_petition(CorrectPetitionRequest {
            territory_code: Some("zhaocun-tiefo".into()),
            reason: "地址记错了村".into(),
            ..correction(&petition.case_id)
        })
        .await
        .expect("territory corrected");
    // It is a housing matter (住建局's by the category table), not a land one.
    let corrected = intake
        .correct_petition(CorrectPetitionRequest {
            matter_category: Some("housing".into()),
            ..correction(&petition.case_id)
        })
        .await
        .expect("category corrected")
        .into_inner();
    assert_eq!(corrected.matter_category, "housing");

    let flagged = decision(&stack, &petition.case_id, |d| !d.review_reason.is_empty()).await;
    assert_eq!(
        flagged.unit_code, "zhaocun",
        "a correction moves nothing by itself"
    );
    assert!(
        flagged.review_reason.contains("zhujian")
            && flagged.review_reason.contains("matter_category"),
        "{}",
        flagged.review_reason
    );
    let mut routing = support::routing(&stack).await;
    let listed = routing
        .list_triage(ListTriageRequest {
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .expect("the triage list")
        .into_inner()
        .decisions;
    assert_eq!(
        listed
            .iter()
            .map(|d| d.case_id.as_str())
            .collect::<Vec<_>>(),
        [petition.case_id.as_str()]
    );

    // The unit has not signed for it: the clerk may still send it where it belongs.
    let rerouted = routing
        .route_case(RouteCaseRequest {
            case_id: petition.case_id.clone(),
            unit_code: "zhujian".into(),
            disposition: proto::RoutingDisposition::Forward as i32,
            reason: "类别更正后转住建局".into(),
            ..Default::default()
        })
        .await
        .expect("re-routed")
        .into_inner();
    assert_eq!(
        (rerouted.unit_code.as_str(), rerouted.review_reason.as_str()),
        ("zhujian", "")
    );
    let listed = routing
        .list_triage(ListTriageRequest {
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .expect("the triage list")
        .into_inner()
        .decisions;
    assert_eq!(listed, []);

    // Statistics counts it under the corrected category.
    let number = petition.case_number.clone();
    let category = eventually(SETTLE, || {
        let (stack, number) = (&stack, number.clone());
        async move {
            counted_category(stack, &number)
                .await
                .filter(|category| category == "housing")
        }
    })
    .await;
    assert_eq!(category, "housing");
}

#[tokio::test]
async fn a_clerk_keeps_a_flagged_case_where_it_is() {
    let stack = Stack::start(Backend::Sqlite)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    let petition = support::submit(&mut intake, sample::create(0)).await;
    decision(&stack, &petition.case_id, |d| d.unit_code == "zhaocun").await;
    intake
        .correct_petition(CorrectPetitionRequest {
            matter_category: Some("housing".into()),
            ..correction(&petition.case_id)
        })
        .await
        .expect("category corrected");
    let flagged = decision(&stack, &petition.case_id, |d| !d.review_reason.is_empty()).await;

    // The clerk finds 赵村镇 right after all (its own housing office): kept, not moved.
    let mut routing = support::routing(&stack).await;
    let kept = routing
        .route_case(RouteCaseRequest {
            case_id: petition.case_id.clone(),
            unit_code: "zhaocun".into(),
            disposition: proto::RoutingDisposition::Forward as i32,
            reason: "镇里有住房办，仍由赵村镇办理".into(),
            ..Default::default()
        })
        .await
        .expect("kept")
        .into_inner();
    assert_eq!(
        (
            kept.unit_code.as_str(),
            kept.revision,
            kept.review_reason.as_str()
        ),
        ("zhaocun", flagged.revision, "")
    );
    let listed = routing
        .list_triage(ListTriageRequest {
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .expect("the triage list")
        .into_inner()
        .decisions;
    assert_eq!(listed, []);
}
