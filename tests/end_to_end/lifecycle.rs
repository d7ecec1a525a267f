//! A case's procedure through gRPC and events: the unit signs for it, accepts or refuses,
//! extends, replies, serves; the petitioner evaluates; review and re-review end in a final
//! matter. Every step is checked against the stage, idempotent on its request id, scoped
//! to the caller's units, and published on the unit's subject.

use std::time::Duration;

use time::OffsetDateTime;
use tonic::Code;
use xinfang_platform::auth::Role;
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{
    self as api, GetCaseTimelineRequest, ListCaseTimelinesRequest, RecordCaseActionRequest,
    record_case_action_request::Action, supervision_service_client::SupervisionServiceClient,
};
use xinfang_proto::v1::{self as proto, CaseStage, DeadlineKind, DeadlineState};
use xinfang_supervision::calendar::HolidayCalendar;
use xinfang_supervision::deadlines::{self, HANDLING, NOTICE_OF_RECEIPT, start_day};
use xinfang_testkit::auth::{self, Authed};
use xinfang_testkit::{Backend, Stack, Svc, sample, stored_messages};

use crate::support;

type Client = SupervisionServiceClient<Authed>;

pub(crate) fn as_unit(stack: &Stack, unit: &str) -> Client {
    let token = auth::token(&[Role::UnitHandler], &[unit]);
    SupervisionServiceClient::new(auth::authed(&stack.grpc_url(Svc::Supervision), &token))
}

pub(crate) fn as_bureau(stack: &Stack) -> Client {
    let token = auth::token(&[Role::Supervisor], &[]);
    SupervisionServiceClient::new(auth::authed(&stack.grpc_url(Svc::Supervision), &token))
}

/// Registers sample `index` (sample 0 goes to 赵村镇) and waits until it awaits sign-for.
pub(crate) async fn routed_case(stack: &Stack, index: usize) -> String {
    let mut intake = support::intake(stack).await;
    let petition = support::submit(&mut intake, sample::create(index)).await;
    let mut bureau = as_bureau(stack);
    let deadline = tokio::time::Instant::now() + support::SETTLE;
    loop {
        if let Ok(timeline) = bureau
            .get_case_timeline(GetCaseTimelineRequest {
                case_id: petition.case_id.clone(),
            })
            .await
            && timeline.get_ref().stage() == CaseStage::AwaitingSignFor
        {
            return petition.case_id;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the case never reached its unit:\n{}",
            stack.log_tails(20)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn request(case_id: &str, action: Action) -> RecordCaseActionRequest {
    RecordCaseActionRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        case_id: case_id.to_owned(),
        occurred_on: None,
        action: Some(action),
    }
}

pub(crate) async fn act(client: &mut Client, case_id: &str, action: Action) -> proto::CaseTimeline {
    client
        .record_case_action(request(case_id, action))
        .await
        .unwrap_or_else(|status| panic!("recorded: {status:?}"))
        .into_inner()
}

pub(crate) async fn refused(client: &mut Client, case_id: &str, action: Action) -> tonic::Status {
    client
        .record_case_action(request(case_id, action))
        .await
        .expect_err("refused")
}

fn clock(timeline: &proto::CaseTimeline, kind: DeadlineKind) -> &proto::Deadline {
    timeline
        .deadlines
        .iter()
        .rev()
        .find(|d| d.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind:?} clock in {:?}", timeline.deadlines))
}

fn day(date: time::Date) -> Option<proto::CalendarDate> {
    Some(proto::CalendarDate {
        year: date.year(),
        month: i32::from(u8::from(date.month())),
        day: i32::from(date.day()),
    })
}

pub(crate) fn opinion(decision: proto::ReplyDecision) -> Option<api::WrittenOpinion> {
    Some(api::WrittenOpinion {
        request: "请求发放征地补偿款".into(),
        facts: "经查，补偿款已于本月拨付到村。".into(),
        decision: decision.into(),
        legal_basis: "《土地管理法》第四十八条".into(),
    })
}

pub(crate) fn accept() -> Action {
    Action::Accept(api::AcceptCase {
        notice: "您的信访事项已受理，将按信访程序办理。".into(),
    })
}

pub(crate) fn reply() -> Action {
    Action::Reply(api::ReplyWithOpinion {
        opinion: opinion(proto::ReplyDecision::Support),
    })
}

pub(crate) fn serve() -> Action {
    Action::RecordService(api::RecordService {
        method: proto::ServiceMethod::Post.into(),
    })
}

pub(crate) fn sign_for() -> Action {
    Action::SignFor(api::SignFor {
        signed_by: "赵村镇信访办 李四".into(),
    })
}

/// The subjects of supervision's events about `case_id`, in order.
async fn subjects_of(stack: &Stack, case_id: &str, expected_total: usize) -> Vec<String> {
    let client = stack.nats.client().await.expect("connect");
    let jetstream = async_nats::jetstream::new(client);
    stored_messages(
        &jetstream,
        subjects::SUPERVISION_STREAM.name,
        expected_total,
    )
    .await
    .into_iter()
    .filter(|message| {
        message
            .headers
            .as_ref()
            .and_then(|headers| headers.get("ce-subject"))
            .is_some_and(|subject| subject.as_str() == case_id)
    })
    .map(|message| message.subject.to_string())
    .collect()
}

#[tokio::test]
async fn a_case_goes_from_sign_for_to_evaluation_with_every_clock_and_event() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let case = routed_case(&stack, 0).await;
    let mut unit = as_unit(&stack, "zhaocun");
    let calendar = HolidayCalendar::official().expect("calendar");
    let today = start_day(OffsetDateTime::now_utc());

    // Nothing can be replied before the case is accepted: the refusal names the stage.
    let status = refused(&mut unit, &case, reply()).await;
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(
        status.message(),
        "cannot reply a case that is awaiting sign-for"
    );

    // Nothing the unit does can predate its receipt of the case.
    let mut backdated = request(&case, sign_for());
    backdated.occurred_on = day(today - time::Duration::days(1));
    let status = unit
        .record_case_action(backdated)
        .await
        .expect_err("backdated");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    // A worklist cannot look past any legal clock (nor overflow a date).
    let status = unit
        .list_case_timelines(ListCaseTimelinesRequest {
            due_within_days: u32::MAX,
            ..Default::default()
        })
        .await
        .expect_err("too far");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");

    // Sign-for starts the notice clock (Art 23 runs from the unit's receipt) and the
    // objection window.
    let signed = act(&mut unit, &case, sign_for()).await;
    assert_eq!(signed.stage(), CaseStage::SignedFor);
    let notice = clock(&signed, DeadlineKind::NoticeOfReceipt);
    assert_eq!(notice.start, day(today));
    assert_eq!(
        notice.due,
        day(deadlines::deadline(today, NOTICE_OF_RECEIPT, &calendar).due)
    );
    assert_eq!(notice.start_event, "signed-for");
    assert_eq!(notice.legal_basis, "Art 23");
    assert_eq!(
        clock(&signed, DeadlineKind::Objection).state(),
        DeadlineState::Running
    );

    // The petitioner is owed the written notice: acceptance without it changes nothing.
    let status = refused(&mut unit, &case, Action::Accept(api::AcceptCase::default())).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let accepted = act(&mut unit, &case, accept()).await;
    assert_eq!(accepted.stage(), CaseStage::Accepted);
    assert_eq!(
        clock(&accepted, DeadlineKind::NoticeOfReceipt).state(),
        DeadlineState::MetInTime
    );
    assert_eq!(
        clock(&accepted, DeadlineKind::Objection).state(),
        DeadlineState::Closed
    );
    let handling = clock(&accepted, DeadlineKind::Handling);
    assert_eq!(
        handling.due,
        day(deadlines::deadline(today, HANDLING, &calendar).due)
    );

    // One extension, approved by the head, the petitioner told; its retry is a no-op.
    let extend = request(
        &case,
        Action::Extend(api::ExtendHandling {
            days: 20,
            reasons: "需会同国土部门复核补偿标准".into(),
            approved_by: "镇长 王五".into(),
            petitioner_told_on: day(today),
        }),
    );
    let extended = unit
        .record_case_action(extend.clone())
        .await
        .expect("extended")
        .into_inner();
    let retried = unit
        .record_case_action(extend.clone())
        .await
        .expect("a retry is answered")
        .into_inner();
    let extended_due = deadlines::deadline(today, deadlines::DeadlineRule::days(80), &calendar).due;
    for timeline in [&extended, &retried] {
        let handling = clock(timeline, DeadlineKind::Handling);
        assert_eq!(handling.extended_by_days, 20);
        assert_eq!(handling.due, day(extended_due));
    }
    let mut reused = extend.clone();
    reused.action = Some(Action::RecordStep(api::RecordHandlingStep {
        description: "实地走访".into(),
    }));
    let status = unit
        .record_case_action(reused)
        .await
        .expect_err("reused id");
    assert_eq!(status.code(), Code::AlreadyExists);
    let status = refused(
        &mut unit,
        &case,
        Action::Extend(api::ExtendHandling {
            days: 5,
            reasons: "再延".into(),
            approved_by: "镇长 王五".into(),
            petitioner_told_on: day(today),
        }),
    )
    .await;
    assert_eq!(status.code(), Code::FailedPrecondition);

    // Another unit cannot act on the case, and the unit cannot record the bureau's acts.
    let status = refused(
        &mut as_unit(&stack, "dongcheng"),
        &case,
        Action::RecordStep(api::RecordHandlingStep {
            description: "x".into(),
        }),
    )
    .await;
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = refused(
        &mut unit,
        &case,
        Action::DecideObjection(api::DecideObjection {
            upheld: true,
            reasons: "x".into(),
        }),
    )
    .await;
    assert_eq!(status.code(), Code::PermissionDenied);

    act(
        &mut unit,
        &case,
        Action::RecordStep(api::RecordHandlingStep {
            description: "召开村民代表会议核实".into(),
        }),
    )
    .await;
    assert_eq!(
        act(&mut unit, &case, reply()).await.stage(),
        CaseStage::Replied
    );
    let completed = act(&mut unit, &case, serve()).await;
    assert_eq!(completed.stage(), CaseStage::Completed);
    assert_eq!(
        clock(&completed, DeadlineKind::Handling).state(),
        DeadlineState::MetInTime
    );
    assert_eq!(
        clock(&completed, DeadlineKind::ReviewRequest).state(),
        DeadlineState::Running
    );

    // A dissatisfied petitioner: the supervisor's follow-up list shows the case.
    // The petitioner's evaluation is the bureau's to record, not the unit's own.
    let evaluate = Action::Evaluate(api::RecordEvaluation {
        evaluation: proto::Evaluation::Dissatisfied.into(),
    });
    let status = refused(&mut unit, &case, evaluate.clone()).await;
    assert_eq!(status.code(), Code::PermissionDenied);
    let evaluated = act(&mut as_bureau(&stack), &case, evaluate).await;
    assert!(evaluated.follow_up);
    let follow_ups = as_bureau(&stack)
        .list_case_timelines(ListCaseTimelinesRequest {
            follow_up: true,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner();
    let listed: Vec<&str> = follow_ups
        .timelines
        .iter()
        .map(|t| t.case_id.as_str())
        .collect();
    assert_eq!(listed, vec![case.as_str()]);

    let history: Vec<&str> = evaluated.steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(
        history,
        vec![
            "signed-for",
            "accepted",
            "extended",
            "step-recorded",
            "replied",
            "served",
            "evaluated"
        ]
    );
    // Every step on the unit's subject, once; the retry published nothing.
    let published = subjects_of(&stack, &case, 8).await;
    let expected: Vec<String> = std::iter::once("timeline.opened".to_owned())
        .chain(history.iter().map(|action| format!("case.{action}")))
        .map(|tail| format!("xinfang.v1.supervision.unit.zhaocun.{tail}"))
        .collect();
    assert_eq!(published, expected);
}

#[tokio::test]
async fn refusal_and_a_review_then_re_review_that_makes_the_matter_final() {
    let stack = Stack::start(Backend::Sqlite)
        .await
        .expect("the stack starts");
    let refused_case = routed_case(&stack, 0).await;
    let reviewed_case = routed_case(&stack, 6).await;
    let mut unit = as_unit(&stack, "zhaocun");
    let mut bureau = as_bureau(&stack);

    act(&mut unit, &refused_case, sign_for()).await;
    let refusal = act(
        &mut unit,
        &refused_case,
        Action::Refuse(api::RefuseCase {
            reasons: "已通过诉讼程序处理".into(),
            legal_basis: "《信访工作条例》第三十一条".into(),
        }),
    )
    .await;
    assert_eq!(refusal.stage(), CaseStage::Refused);
    assert_eq!(
        clock(&refusal, DeadlineKind::NoticeOfReceipt).state(),
        DeadlineState::MetInTime
    );

    for action in [sign_for(), accept(), reply(), serve()] {
        act(&mut unit, &reviewed_case, action).await;
    }
    let organ = "兴平市人民政府";
    let review = |organ: &str| api::RequestReview {
        organ: organ.into(),
        reasons: "对处理意见不服".into(),
    };
    let decide = |organ: &str| api::DecideReview {
        organ: organ.into(),
        opinion: opinion(proto::ReplyDecision::Explain),
    };
    act(
        &mut bureau,
        &reviewed_case,
        Action::RequestReview(review(organ)),
    )
    .await;
    act(
        &mut bureau,
        &reviewed_case,
        Action::DecideReview(decide(organ)),
    )
    .await;
    // The review opinion is the higher organ's: the unit does not record its service.
    let status = refused(&mut unit, &reviewed_case, serve()).await;
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    act(&mut bureau, &reviewed_case, serve()).await;
    let organ = "咸阳市人民政府";
    act(
        &mut bureau,
        &reviewed_case,
        Action::RequestReReview(review(organ)),
    )
    .await;
    act(
        &mut bureau,
        &reviewed_case,
        Action::OpenHearing(api::OpenHearing {
            reasons: "听证".into(),
        }),
    )
    .await;
    let closed = act(
        &mut bureau,
        &reviewed_case,
        Action::CloseHearing(api::CloseHearing {}),
    )
    .await;
    // The hearing's day is not counted.
    assert_eq!(
        clock(&closed, DeadlineKind::ReReviewDecision).paused_days,
        1
    );
    act(
        &mut bureau,
        &reviewed_case,
        Action::DecideReReview(decide(organ)),
    )
    .await;
    let last = act(&mut bureau, &reviewed_case, serve()).await;
    assert_eq!(last.stage(), CaseStage::Final);
    let status = refused(
        &mut bureau,
        &reviewed_case,
        Action::RequestReview(review(organ)),
    )
    .await;
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(
        status.message(),
        "cannot request review a case that is final"
    );

    // Intake is told the matter is final. The same matter from the same petitioner (sample
    // 12 — the same matter and place as sample 6 — told by sample 6's petitioner) is still
    // registered — every petition is, Art 19 — with a notice to the clerk, and accepted by
    // no one (Art 36).
    let published = subjects_of(&stack, &reviewed_case, 17).await;
    assert_eq!(
        published.last().map(String::as_str),
        Some("xinfang.v1.supervision.unit.zhaocun.matter.final")
    );
    let mut intake = support::intake(&stack).await;
    let deadline = tokio::time::Instant::now() + support::SETTLE;
    let again = proto::Petition {
        petitioner: sample::petition(6).petitioner,
        ..sample::petition(12)
    };
    let repeat = loop {
        let petition = support::submit(&mut intake, support::create(again.clone())).await;
        if petition
            .notices
            .iter()
            .any(|notice| notice.contains("Art 36"))
        {
            break petition;
        }
        // Registered before intake heard of the finality: a new case, as it then was.
        assert!(
            tokio::time::Instant::now() < deadline,
            "intake never saw the matter as final:\n{}",
            stack.log_tails(20)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let stage = xinfang_testkit::eventually(support::SETTLE, || {
        let mut bureau = bureau.clone();
        let case_id = repeat.case_id.clone();
        async move {
            let timeline = bureau
                .get_case_timeline(GetCaseTimelineRequest { case_id })
                .await
                .ok()?
                .into_inner();
            (timeline.stage() == CaseStage::NotAcceptedFinal && timeline.routed_at.is_some())
                .then_some(timeline.stage())
        }
    })
    .await;
    assert_eq!(stage, CaseStage::NotAcceptedFinal);
}

#[tokio::test]
async fn a_case_the_province_assigned_carries_its_deadline_and_the_bureaus_assignment_letter() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let mut petition = sample::petition(0);
    let set_day = start_day(OffsetDateTime::now_utc()) + time::Duration::days(20);
    petition.source = Some(proto::PetitionSource {
        level: proto::SourceLevel::Provincial.into(),
        upstream_reference: "陕信交〔2026〕88号".into(),
        disposition: proto::UpstreamDisposition::Assigned.into(),
        upstream_deadline: day(set_day),
    });
    let mut intake = support::intake(&stack).await;
    let registered = support::submit(&mut intake, api_create(petition)).await;
    let case = registered.case_id;
    let mut bureau = as_bureau(&stack);
    // Assigned on: the assignment letter comes with the routing decision.
    let timeline = xinfang_testkit::eventually(support::SETTLE, || {
        let mut bureau = bureau.clone();
        let case = case.clone();
        async move {
            let timeline = bureau
                .get_case_timeline(GetCaseTimelineRequest { case_id: case })
                .await
                .ok()?
                .into_inner();
            (timeline.stage() == CaseStage::AwaitingSignFor
                && timeline
                    .deadlines
                    .iter()
                    .any(|d| d.kind() == DeadlineKind::Upstream && !d.reference.is_empty()))
            .then_some(timeline)
        }
    })
    .await;
    let upstream = clock(&timeline, DeadlineKind::Upstream);
    assert_eq!(upstream.reference, "陕信交〔2026〕88号");
    assert_eq!(upstream.due, day(set_day));
    let assignment = clock(&timeline, DeadlineKind::Assignment);
    let year = start_day(OffsetDateTime::now_utc()).year();
    assert_eq!(assignment.reference, format!("兴信交〔{year}〕1号"));
    let letters = bureau
        .list_letters(api::ListLettersRequest {
            case_id: case.clone(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .letters;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].kind(), api::LetterKind::Assignment);
    assert_eq!(letters[0].recipient_unit, "zhaocun");
    assert!(
        letters[0].text.contains(&registered.case_number),
        "{}",
        letters[0].text
    );

    // The unit reports the result: the assignment's deadline is met.
    let replied = as_unit(&stack, "zhaocun")
        .record_letter_reply(api::RecordLetterReplyRequest {
            number: letters[0].number.clone(),
            reply: "已办结，补偿款已发放。".into(),
            replied_on: None,
        })
        .await
        .expect("reply recorded")
        .into_inner();
    assert!(replied.replied_on.is_some());
    let timeline = bureau
        .get_case_timeline(GetCaseTimelineRequest {
            case_id: case.clone(),
        })
        .await
        .expect("timeline")
        .into_inner();
    assert_eq!(
        clock(&timeline, DeadlineKind::Assignment).state(),
        DeadlineState::MetInTime
    );
}

fn api_create(petition: proto::Petition) -> xinfang_proto::intake::v1::CreatePetitionRequest {
    xinfang_proto::intake::v1::CreatePetitionRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        petition: Some(petition),
        registering_unit: String::new(),
    }
}
