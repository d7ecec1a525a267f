//! One case, many upstreams (DOMAIN.md, "Channels and sources"): the provincial and the
//! national bureau send the same matter down. Intake proposes the link, routing holds the
//! second petition instead of handing the matter to a unit twice, a clerk links it, and
//! then the case answers to both bureaus — one obligation and deadline each — while the
//! figures count one case, once under each source.

use time::OffsetDateTime;
use tonic::Code;
use xinfang_proto::intake::v1::LinkUpstreamRequest;
use xinfang_proto::routing::v1::{GetRoutingDecisionRequest, ListTriageRequest, RouteCaseRequest};
use xinfang_proto::statistics::v1::GetOverviewRequest;
use xinfang_proto::supervision::v1::GetCaseTimelineRequest;
use xinfang_proto::v1 as proto;
use xinfang_testkit::{Backend, Stack, eventually, sample};

use xinfang_proto::supervision::v1::{self as api, record_case_action_request::Action};

use crate::lifecycle;
use crate::support::{self, SETTLE, count_of};

fn in_days(days: i64) -> proto::CalendarDate {
    let day = (OffsetDateTime::now_utc() + time::Duration::days(days)).date();
    proto::CalendarDate {
        year: day.year(),
        month: i32::from(u8::from(day.month())),
        day: i32::from(day.day()),
    }
}

/// The same petitioner's matter, as a higher bureau sends it down.
fn sent_down(
    level: proto::SourceLevel,
    reference: &str,
    deadline: proto::CalendarDate,
) -> proto::Petition {
    proto::Petition {
        channel: proto::Channel::Online as i32,
        source: Some(proto::PetitionSource {
            level: level as i32,
            upstream_reference: reference.into(),
            disposition: proto::UpstreamDisposition::Assigned as i32,
            upstream_deadline: Some(deadline),
        }),
        ..sample::petition(0)
    }
}

#[tokio::test]
async fn a_matter_sent_down_by_two_bureaus_is_one_case_answering_to_each() {
    let stack = Stack::start(Backend::Sqlite)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    let provincial = support::submit(
        &mut intake,
        support::create(sent_down(
            proto::SourceLevel::Provincial,
            "陕信交〔2026〕12号",
            in_days(40),
        )),
    )
    .await;
    let national = support::submit(
        &mut intake,
        support::create(sent_down(
            proto::SourceLevel::National,
            "国信交〔2026〕301号",
            in_days(30),
        )),
    )
    .await;
    let proposed = national
        .relations
        .as_ref()
        .and_then(|relations| relations.proposed_link.clone())
        .expect("the national bureau's copy is proposed for the provincial case");
    assert_eq!(
        (proposed.case_id.as_str(), proposed.reason()),
        (
            provincial.case_id.as_str(),
            proto::LinkReason::SamePetitionerSimilarContent
        )
    );

    // Routing sends the provincial case to its unit and holds the national copy.
    let routing = support::routing(&stack).await;
    let decision_of = |case_id: String| {
        let routing = routing.clone();
        eventually(SETTLE, move || {
            let mut routing = routing.clone();
            let case_id = case_id.clone();
            async move {
                routing
                    .get_routing_decision(GetRoutingDecisionRequest { case_id })
                    .await
                    .ok()
                    .map(|found| found.into_inner())
            }
        })
    };
    let carrier = decision_of(provincial.case_id.clone()).await;
    assert_ne!(
        carrier.disposition(),
        proto::RoutingDisposition::Unspecified
    );
    let held = decision_of(national.case_id.clone()).await;
    assert_eq!(held.rule, "upstream-link");
    assert!(
        held.reason.contains(&provincial.case_number),
        "{}",
        held.reason
    );

    // The routed provincial case is its unit's: it cannot be linked into the held copy.
    let backwards = eventually(SETTLE, || {
        let mut intake = intake.clone();
        let request = LinkUpstreamRequest {
            case_id: provincial.case_id.clone(),
            into_case_id: national.case_id.clone(),
            reason: "同一事项".into(),
        };
        async move {
            match intake.link_upstream(request).await {
                Err(status) if status.message().contains("was routed to unit") => Some(status),
                _ => None,
            }
        }
    })
    .await;
    assert_eq!(backwards.code(), Code::FailedPrecondition);

    let linked = intake
        .link_upstream(LinkUpstreamRequest {
            case_id: national.case_id.clone(),
            into_case_id: provincial.case_id.clone(),
            reason: "国家局与省局交办的是同一事项".into(),
        })
        .await
        .expect("the clerk links the copy")
        .into_inner();
    assert_eq!(
        linked.relations.expect("relations").linked_to_case_number,
        provincial.case_number
    );

    // Routing: off the triage list, and never routed on its own.
    let mut routing = support::routing(&stack).await;
    eventually(SETTLE, || {
        let mut routing = routing.clone();
        let national = national.case_id.clone();
        async move {
            let held = routing
                .list_triage(ListTriageRequest {
                    page_size: 100,
                    page_token: String::new(),
                })
                .await
                .ok()?
                .into_inner();
            (!held.decisions.iter().any(|d| d.case_id == national)).then_some(())
        }
    })
    .await;
    let refused = routing
        .route_case(RouteCaseRequest {
            case_id: national.case_id.clone(),
            unit_code: carrier.unit_code.clone(),
            disposition: proto::RoutingDisposition::Assign as i32,
            reason: "交办".into(),
            ..Default::default()
        })
        .await
        .expect_err("a linked petition goes with its case");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("is linked into case"),
        "{}",
        refused.message()
    );

    // Supervision: the case answers to both bureaus, each by its own deadline.
    let supervision = support::supervision(&stack).await;
    let timeline_of = |case_id: String, ready: fn(&proto::CaseTimeline) -> bool| {
        let supervision = supervision.clone();
        eventually(SETTLE, move || {
            let mut supervision = supervision.clone();
            let case_id = case_id.clone();
            async move {
                let timeline = supervision
                    .get_case_timeline(GetCaseTimelineRequest { case_id })
                    .await
                    .ok()?
                    .into_inner();
                ready(&timeline).then_some(timeline)
            }
        })
    };
    let case = timeline_of(provincial.case_id.clone(), |t| t.upstreams.len() == 2).await;
    let upstreams: Vec<(proto::SourceLevel, &str, &str)> = case
        .upstreams
        .iter()
        .map(|u| (u.level(), u.reference.as_str(), u.via_case_number.as_str()))
        .collect();
    assert_eq!(
        upstreams,
        [
            (
                proto::SourceLevel::Provincial,
                "陕信交〔2026〕12号",
                provincial.case_number.as_str()
            ),
            (
                proto::SourceLevel::National,
                "国信交〔2026〕301号",
                national.case_number.as_str()
            ),
        ]
    );
    let mut clocks: Vec<(String, proto::CalendarDate)> = case
        .deadlines
        .iter()
        .filter(|d| d.kind() == proto::DeadlineKind::Upstream)
        .map(|d| (d.reference.clone(), d.due.expect("a due day")))
        .collect();
    clocks.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        clocks,
        [
            ("国信交〔2026〕301号".to_owned(), in_days(30)),
            ("陕信交〔2026〕12号".to_owned(), in_days(40)),
        ]
    );
    let copy = timeline_of(national.case_id.clone(), |t| {
        t.stage() == proto::CaseStage::Linked
    })
    .await;
    assert_eq!(copy.linked_into_case_number, provincial.case_number);
    let running: Vec<proto::DeadlineKind> = copy
        .deadlines
        .iter()
        .filter(|d| d.met_on.is_none() && d.closed_on.is_none())
        .map(|d| d.kind())
        .collect();
    assert_eq!(running, [], "a linked petition has no clock of its own");

    // Statistics: one case, counted once under each bureau.
    let mut statistics = support::statistics(&stack).await;
    let overview = eventually(SETTLE, || {
        let mut statistics = statistics.clone();
        async move {
            let overview = statistics
                .get_overview(GetOverviewRequest {})
                .await
                .ok()?
                .into_inner();
            (count_of(&overview.by_source, "national") == 1 && overview.cases == 1)
                .then_some(overview)
        }
    })
    .await;
    assert_eq!(count_of(&overview.by_source, "provincial"), 1);
    assert_eq!(count_of(&overview.by_source, "local"), 0);
    let again = statistics
        .get_overview(GetOverviewRequest {})
        .await
        .expect("the overview")
        .into_inner();
    assert_eq!(again.cases, 1);

    // The unit handles the case and replies; the bureau reports the result back to each
    // bureau, which meets that bureau's deadline.
    let mut unit = lifecycle::as_unit(&stack, &carrier.unit_code);
    let case_id = provincial.case_id.as_str();
    for action in [lifecycle::sign_for(), lifecycle::accept()] {
        lifecycle::act(&mut unit, case_id, action).await;
    }
    let report = |reference: &str| {
        Action::ReportToUpstream(api::ReportToUpstream {
            reference: reference.into(),
            result: "已答复信访人，补偿款已发放到户。".into(),
        })
    };
    let early = lifecycle::refused(
        &mut lifecycle::as_bureau(&stack),
        case_id,
        report("陕信交〔2026〕12号"),
    )
    .await;
    assert_eq!(
        early.code(),
        Code::FailedPrecondition,
        "no result to report yet"
    );
    lifecycle::act(&mut unit, case_id, lifecycle::reply()).await;
    let by_unit = lifecycle::refused(&mut unit, case_id, report("陕信交〔2026〕12号")).await;
    assert_eq!(
        by_unit.code(),
        Code::PermissionDenied,
        "the bureau answers to the bureaus"
    );
    let mut bureau = lifecycle::as_bureau(&stack);
    let reported = lifecycle::act(&mut bureau, case_id, report("陕信交〔2026〕12号")).await;
    let met: Vec<(&str, bool)> = reported
        .deadlines
        .iter()
        .filter(|d| d.kind() == proto::DeadlineKind::Upstream)
        .map(|d| (d.reference.as_str(), d.met_on.is_some()))
        .collect();
    assert_eq!(
        met,
        [("陕信交〔2026〕12号", true), ("国信交〔2026〕301号", false)]
    );
    let twice = lifecycle::refused(&mut bureau, case_id, report("陕信交〔2026〕12号")).await;
    assert_eq!(twice.code(), Code::FailedPrecondition);
    let unknown = lifecycle::refused(&mut bureau, case_id, report("陕信交〔2026〕99号")).await;
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(
        unknown.message().contains("国信交〔2026〕301号"),
        "{}",
        unknown.message()
    );
    let case = timeline_of(provincial.case_id.clone(), |t| t.upstreams.len() == 2).await;
    let reported: Vec<bool> = case
        .upstreams
        .iter()
        .map(|u| u.reported_on.is_some())
        .collect();
    assert_eq!(reported, [true, false]);
}
