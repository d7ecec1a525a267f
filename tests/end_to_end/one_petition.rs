//! One petition, followed through all four services.

use xinfang_proto::intake::v1::{GetPetitionRequest, get_petition_request::Key};
use xinfang_proto::routing::v1::GetRoutingDecisionRequest;
use xinfang_proto::supervision::v1::GetCaseTimelineRequest;
use xinfang_proto::v1::{DeadlineKind, LegalTrack, RoutingDisposition};
use xinfang_testkit::{Backend, Stack, sample};

use crate::support::{self, count_of};

async fn one_petition_reaches_every_service(backend: Backend) {
    let stack = Stack::start(backend).await.expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    // Sample 0: land acquisition in 赵村镇, online.
    let petition = support::submit(&mut intake, sample::create(0)).await;
    let year = &petition.case_number[7..11];
    assert!(
        petition.case_number.starts_with("610481-")
            && year.chars().all(|c| c.is_ascii_digit())
            && petition.case_number.ends_with("-000001"),
        "case number {}",
        petition.case_number
    );

    let overview = support::settled_overview(&stack, 1).await;
    assert_eq!(overview.cases, 1);
    assert_eq!(count_of(&overview.by_unit, "zhaocun"), 1);
    assert_eq!(count_of(&overview.by_channel, "CHANNEL_ONLINE"), 1);
    assert_eq!(count_of(&overview.by_source, "SOURCE_LEVEL_LOCAL"), 1);

    let stored = intake
        .get_petition(GetPetitionRequest {
            key: Some(Key::CaseId(petition.case_id.clone())),
        })
        .await
        .expect("intake has it")
        .into_inner();
    assert_eq!(stored.case_number, petition.case_number);

    let decision = support::routing(&stack)
        .await
        .get_routing_decision(GetRoutingDecisionRequest {
            case_id: petition.case_id.clone(),
        })
        .await
        .expect("routing has it")
        .into_inner();
    assert_eq!(decision.case_number, petition.case_number);
    assert_eq!(decision.unit_code, "zhaocun");
    assert_eq!(decision.unit_name, "赵村镇");
    assert_eq!(decision.disposition(), RoutingDisposition::Forward);
    assert_eq!(decision.track(), LegalTrack::Appeal);
    assert_eq!(decision.rule, "category:land-acquisition/territory");

    let timeline = support::supervision(&stack)
        .await
        .get_case_timeline(GetCaseTimelineRequest {
            case_id: petition.case_id.clone(),
        })
        .await
        .expect("supervision has it")
        .into_inner();
    assert_eq!(timeline.case_number, petition.case_number);
    assert_eq!(timeline.unit_code, "zhaocun");
    let kinds: Vec<DeadlineKind> = timeline.deadlines.iter().map(|d| d.kind()).collect();
    assert_eq!(
        kinds,
        vec![DeadlineKind::Forward, DeadlineKind::NoticeOfReceipt]
    );

    support::assert_exactly(&stack, 1).await;
}

#[tokio::test]
async fn one_petition_reaches_every_service_on_postgres() {
    one_petition_reaches_every_service(Backend::Postgres).await;
}

#[tokio::test]
async fn one_petition_reaches_every_service_on_sqlite() {
    one_petition_reaches_every_service(Backend::Sqlite).await;
}
