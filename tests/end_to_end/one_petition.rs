//! One petition, followed through all four services.

use xinfang_proto::intake::v1::{GetPetitionRequest, get_petition_request::Key};
use xinfang_proto::routing::v1::GetRoutingDecisionRequest;
use xinfang_proto::subjects::{INTAKE_STREAM, ROUTING_STREAM, SUPERVISION_STREAM};
use xinfang_proto::supervision::v1::GetCaseTimelineRequest;
use xinfang_proto::v1::{CaseStage, DeadlineKind, DeadlineState, LegalTrack, RoutingDisposition};
use xinfang_testkit::{Backend, Stack, Svc, sample, stored_messages};

use crate::support::{self, count_of};

async fn one_petition_reaches_every_service(backend: Backend) {
    let stack = Stack::start(backend).await.expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    // Sample 0: land acquisition in 赵村镇, online.
    // The caller's trace: the whole petition's work must join it.
    let mut request = tonic::Request::new(sample::create(0));
    request
        .metadata_mut()
        .insert("traceparent", CALLER_TRACEPARENT.parse().expect("metadata"));
    let petition = intake
        .create_petition(request)
        .await
        .expect("registered")
        .into_inner();
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
    assert_eq!(count_of(&overview.by_channel, "online"), 1);
    assert_eq!(count_of(&overview.by_source, "local"), 1);

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
    // Forwarded at once: the bureau's forward clock is met; the unit's clocks start when it
    // signs for the case.
    assert_eq!(timeline.stage(), CaseStage::AwaitingSignFor);
    let clocks: Vec<(DeadlineKind, DeadlineState)> = timeline
        .deadlines
        .iter()
        .map(|d| (d.kind(), d.state()))
        .collect();
    assert_eq!(
        clocks,
        vec![(DeadlineKind::Forward, DeadlineState::MetInTime)]
    );

    support::assert_exactly(&stack, 1).await;
    one_trace_across_the_services(&stack).await;

    let routing_metrics = support::metrics(&stack, Svc::Routing).await;
    assert!(
        routing_metrics
            .contains(r#"xinfang_events_consumed_total{consumer="routing",outcome="applied"} 1"#),
        "{routing_metrics}"
    );
    // The decision, and the directory announced at start.
    assert!(
        routing_metrics.contains(r#"xinfang_events_published_total{source="/xinfang/routing"} 2"#),
        "{routing_metrics}"
    );
}

const CALLER_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Every event the petition caused carries the caller's trace id in its `traceparent`.
async fn one_trace_across_the_services(stack: &Stack) {
    let client = stack.nats.client().await.expect("connect");
    let jetstream = async_nats::jetstream::new(client);
    for stream in [INTAKE_STREAM, ROUTING_STREAM, SUPERVISION_STREAM] {
        // Routing's stream begins with its announcement of the directory, caused by no call.
        let messages = stored_messages(&jetstream, stream.name, 1).await;
        let caused = messages
            .iter()
            .find(|message| !message.subject.ends_with("directory.published"))
            .expect("an event the petition caused");
        let traceparent = caused
            .headers
            .as_ref()
            .and_then(|headers| headers.get("traceparent"))
            .map(|value| value.to_string())
            .unwrap_or_default();
        assert_eq!(
            traceparent.split('-').nth(1),
            Some(CALLER_TRACE_ID),
            "{}: traceparent {traceparent:?}",
            stream.name
        );
    }
}

#[tokio::test]
async fn one_petition_reaches_every_service_on_postgres() {
    one_petition_reaches_every_service(Backend::Postgres).await;
}

#[tokio::test]
async fn one_petition_reaches_every_service_on_sqlite() {
    one_petition_reaches_every_service(Backend::Sqlite).await;
}
