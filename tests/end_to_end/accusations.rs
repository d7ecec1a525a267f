//! Accusations: the clerk hears at once that an accused unit is not in the directory (a
//! typo could name the wrong unit), the case waits for a clerk instead of reaching a unit,
//! and an accused person is kept by intake alone.

use std::time::Duration;

use xinfang_proto::intake::v1::{GetPetitionRequest, get_petition_request::Key};
use xinfang_proto::routing::v1::GetRoutingDecisionRequest;
use xinfang_proto::subjects;
use xinfang_proto::v1::{self as proto, RoutingDisposition};
use xinfang_testkit::{Backend, Stack, Svc, sample, stored_messages};

use crate::support;

/// A land matter in 赵村镇 accusing `accused` (and, if given, a person there).
fn accusation(
    index: usize,
    accused: &str,
    person: Option<proto::AccusedPerson>,
) -> proto::Petition {
    let mut petition = sample::petition(index);
    petition.accused_unit_code = accused.to_owned();
    petition.accused_person = person;
    petition
}

/// Waits until intake has recorded the directory routing published at its start.
async fn intake_knows_the_directory(stack: &Stack) {
    let deadline = tokio::time::Instant::now() + support::SETTLE;
    while support::rows(stack, Svc::Intake, "known_unit").await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "intake never learnt the directory:\n{}",
            stack.log_tails(20)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_accused_unit_not_in_the_directory_is_told_to_the_clerk_and_held_for_a_clerk() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    intake_knows_the_directory(&stack).await;
    let mut intake = support::intake(&stack).await;

    // 赵村镇's code mistyped: zhaocum.
    let mistyped =
        support::submit(&mut intake, support::create(accusation(0, "zhaocum", None))).await;
    assert_eq!(mistyped.notices.len(), 1, "{:?}", mistyped.notices);
    assert!(
        mistyped.notices[0].contains("zhaocum"),
        "{}",
        mistyped.notices[0]
    );
    assert!(mistyped.notices[0].contains("not in the unit directory"));

    let known = support::submit(
        &mut intake,
        support::create(accusation(1, "dongcheng", None)),
    )
    .await;
    assert!(known.notices.is_empty(), "{:?}", known.notices);

    support::settled_overview(&stack, 2).await;
    let decision = support::routing(&stack)
        .await
        .get_routing_decision(GetRoutingDecisionRequest {
            case_id: mistyped.case_id.clone(),
        })
        .await
        .expect("routing decided")
        .into_inner();
    assert_eq!(decision.disposition(), RoutingDisposition::Triage);
    assert_eq!(decision.rule, "unknown-accused-unit");
    assert_ne!(decision.unit_code, "zhaocun");

    // Nothing of it reaches 赵村镇: no event on its subjects, no answer to its handlers.
    let zhaocun =
        xinfang_testkit::auth::token(&[xinfang_platform::auth::Role::UnitHandler], &["zhaocun"]);
    assert_eq!(
        support::listed(&stack, &zhaocun, &mistyped.case_id).await,
        [false; 3]
    );
    let jetstream = async_nats::jetstream::new(stack.nats.client().await.expect("connect"));
    for stream in [
        subjects::ROUTING_STREAM.name,
        subjects::SUPERVISION_STREAM.name,
    ] {
        let on_zhaocun: Vec<String> = xinfang_testkit::stored_messages(&jetstream, stream, 1)
            .await
            .iter()
            .filter(|message| {
                message
                    .headers
                    .as_ref()
                    .and_then(|headers| headers.get("ce-subject"))
                    .is_some_and(|case| case.as_str() == mistyped.case_id)
            })
            .filter(|message| message.subject.contains(".unit.zhaocun."))
            .map(|message| message.subject.to_string())
            .collect();
        assert!(on_zhaocun.is_empty(), "{stream}: {on_zhaocun:?}");
    }
}

#[tokio::test]
async fn an_accused_person_is_kept_by_intake_alone_and_shown_masked() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    let person = proto::AccusedPerson {
        name: "钱有权".into(),
        position: "村委会主任".into(),
        unit_name: "赵村镇铁佛村村委会".into(),
    };
    let registered = support::submit(
        &mut intake,
        support::create(accusation(0, "zhaocun-tiefo", Some(person))),
    )
    .await;
    let shown = registered
        .accused_person
        .expect("the accused person is shown");
    assert_eq!(shown.position, "村委会主任");
    assert_eq!(shown.unit_name, "赵村镇铁佛村村委会");
    assert_ne!(shown.name, "钱有权", "the name is masked");

    let read = intake
        .get_petition(GetPetitionRequest {
            key: Some(Key::CaseId(registered.case_id.clone())),
        })
        .await
        .expect("read back")
        .into_inner();
    assert_eq!(read.accused_person, Some(shown));

    // No event carries the person: routing learns only the accused unit.
    let client = stack.nats.client().await.expect("connect");
    let events = stored_messages(
        &async_nats::jetstream::new(client),
        subjects::INTAKE_STREAM.name,
        1,
    )
    .await;
    assert_eq!(events.len(), 1);
    let payload = String::from_utf8_lossy(&events[0].payload);
    assert!(payload.contains("zhaocun-tiefo"));
    for secret in ["钱有权", "村委会主任", "铁佛村村委会"] {
        assert!(!payload.contains(secret), "{secret} is on the event");
    }
}

#[tokio::test]
async fn an_accused_person_without_the_accused_unit_is_refused() {
    let stack = Stack::start(Backend::Sqlite)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    let mut petition = accusation(0, "", None);
    petition.accused_person = Some(proto::AccusedPerson {
        name: "钱有权".into(),
        ..Default::default()
    });
    let refused = intake
        .create_petition(support::create(petition))
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("petition.accused_unit_code"),
        "{}",
        refused.message()
    );
    assert_eq!(support::rows(&stack, Svc::Intake, "petition").await, 0);
}
