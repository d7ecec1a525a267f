use time::macros::{date, datetime};
use xinfang_platform::wire::{calendar_date, timestamp};
use xinfang_proto::intake::v1::{PetitionCorrected, PetitionRegistered, UpstreamLinked};
use xinfang_proto::routing::v1::PetitionRouted;
use xinfang_proto::supervision::v1::CaseAdvanced;
use xinfang_proto::v1 as proto;

use super::*;

fn at(fact: Fact, when: OffsetDateTime) -> Stored {
    Stored {
        event_id: Uuid::now_v7(),
        occurred_at: when,
        fact,
    }
}

fn registered(case_id: Uuid, level: proto::SourceLevel, repeat_of: Option<Uuid>) -> Fact {
    Fact::Registered(PetitionRegistered {
        case_id: case_id.to_string(),
        case_number: "610481-2026-000001".into(),
        channel: proto::Channel::Online as i32,
        source: Some(proto::PetitionSource {
            level: level as i32,
            ..Default::default()
        }),
        registered_at: Some(timestamp(datetime!(2026-03-02 09:00 +8))),
        territory_code: "zhaocun".into(),
        matter_category: "land-acquisition".into(),
        repeat_of_case_id: repeat_of.map(|id| id.to_string()).unwrap_or_default(),
        ..Default::default()
    })
}

fn routed(case_id: Uuid, unit: &str, revision: u32, after_objection_from: &str) -> Fact {
    Fact::Routed(PetitionRouted {
        case_id: case_id.to_string(),
        unit_code: unit.into(),
        unit_path: vec!["xfj".into(), unit.into(), "co-unit".into()],
        revision,
        previous_unit_code: after_objection_from.into(),
        after_objection: !after_objection_from.is_empty(),
        ..Default::default()
    })
}

fn step(case_id: Uuid, stage: proto::CaseStage, on: Date) -> Fact {
    Fact::Advanced(CaseAdvanced {
        case_id: case_id.to_string(),
        stage: stage as i32,
        occurred_on: Some(calendar_date(on)),
        ..Default::default()
    })
}

#[test]
fn a_re_routed_case_keeps_its_first_unit_as_a_wrong_routing_whatever_the_order() {
    let case_id = Uuid::now_v7();
    let t = datetime!(2026-03-02 09:00 +8);
    let facts = vec![
        at(registered(case_id, proto::SourceLevel::Local, None), t),
        at(
            routed(case_id, "zhaocun", 1, ""),
            t + time::Duration::hours(1),
        ),
        at(
            routed(case_id, "dongcheng", 2, "zhaocun"),
            t + time::Duration::days(3),
        ),
    ];
    let mut reversed = facts.clone();
    reversed.reverse();
    let record = fold(case_id, &facts).expect("a record");
    assert_eq!(fold(case_id, &reversed), Some(record.clone()));
    assert_eq!(record.unit_code.as_deref(), Some("dongcheng"));
    // The lead's path only: a co-handling unit does not lead the case.
    assert_eq!(record.lead_path, ["xfj", "dongcheng"]);
    assert_eq!(record.wrongly_routed_to, ["zhaocun"]);
    assert_eq!(record.registered_on, Some(date!(2026 - 03 - 02)));
}

#[test]
fn a_linked_petition_is_no_case_and_its_bureau_becomes_a_source_of_the_case() {
    let (case_id, petition_id) = (Uuid::now_v7(), Uuid::now_v7());
    let t = datetime!(2026-03-02 09:00 +8);
    let link = at(
        Fact::Linked(UpstreamLinked {
            case_id: case_id.to_string(),
            linked_case_id: petition_id.to_string(),
            source: Some(proto::PetitionSource {
                level: proto::SourceLevel::National as i32,
                disposition: proto::UpstreamDisposition::Assigned as i32,
                ..Default::default()
            }),
            ..Default::default()
        }),
        t + time::Duration::days(1),
    );
    let case = fold(
        case_id,
        &[
            at(registered(case_id, proto::SourceLevel::Provincial, None), t),
            link.clone(),
        ],
    )
    .expect("the case");
    assert_eq!(
        case.sources,
        [SourceLevel::National, SourceLevel::Provincial]
    );
    assert!(case.assigned, "the national bureau assigned it");
    let petition = fold(
        petition_id,
        &[
            at(
                registered(petition_id, proto::SourceLevel::National, None),
                t,
            ),
            link,
        ],
    )
    .expect("the petition");
    assert_eq!(petition.linked_into, Some(case_id));
}

#[test]
fn the_first_repeat_of_a_case_is_kept_whether_before_or_after_it_was_done() {
    let (case_id, early, late) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let t = datetime!(2026-03-02 09:00 +8);
    let record = fold(
        case_id,
        &[
            at(registered(case_id, proto::SourceLevel::Local, None), t),
            at(
                registered(early, proto::SourceLevel::Local, Some(case_id)),
                datetime!(2026-03-05 09:00 +8),
            ),
            at(
                step(case_id, proto::CaseStage::Replied, date!(2026 - 03 - 09)),
                datetime!(2026-03-09 09:00 +8),
            ),
            at(
                step(case_id, proto::CaseStage::Completed, date!(2026 - 03 - 10)),
                datetime!(2026-03-10 09:00 +8),
            ),
            at(
                registered(late, proto::SourceLevel::Local, Some(case_id)),
                datetime!(2026-04-01 09:00 +8),
            ),
        ],
    )
    .expect("a record");
    assert_eq!(
        (
            record.replied_on,
            record.completed_on,
            record.done_on,
            record.repeated_on
        ),
        (
            Some(date!(2026 - 03 - 09)),
            Some(date!(2026 - 03 - 10)),
            Some(date!(2026 - 03 - 10)),
            Some(date!(2026 - 03 - 05))
        )
    );
    // The repeat itself is a petition of its own that repeats the case.
    let repeat = fold(
        late,
        &[at(
            registered(late, proto::SourceLevel::Local, Some(case_id)),
            t,
        )],
    )
    .expect("the repeat");
    assert_eq!(repeat.repeat_of, Some(case_id));
}

#[test]
fn the_newest_correction_holds_whichever_arrives_last() {
    let case_id = Uuid::now_v7();
    let t = datetime!(2026-03-02 09:00 +8);
    let corrected = |revision, category: &str| {
        Fact::Corrected(PetitionCorrected {
            case_id: case_id.to_string(),
            revision,
            territory_code: "dongcheng".into(),
            matter_category: category.into(),
            ..Default::default()
        })
    };
    let record = fold(
        case_id,
        &[
            at(corrected(2, "housing"), t + time::Duration::hours(2)),
            at(registered(case_id, proto::SourceLevel::Local, None), t),
            // Delivered last, but older.
            at(corrected(1, "education"), t + time::Duration::hours(1)),
        ],
    )
    .expect("a record");
    assert_eq!(record.matter_category.as_deref(), Some("housing"));
    assert_eq!(record.territory_code.as_deref(), Some("dongcheng"));
}

#[test]
fn facts_about_other_cases_alone_make_no_record() {
    let (case_id, other) = (Uuid::now_v7(), Uuid::now_v7());
    let t = datetime!(2026-03-02 09:00 +8);
    assert_eq!(
        fold(
            case_id,
            &[at(
                registered(other, proto::SourceLevel::Local, Some(case_id)),
                t
            )]
        ),
        None
    );
}

#[test]
fn a_diverted_case_is_done_the_day_it_was_diverted_and_a_final_matters_repeat_on_registration() {
    let case_id = Uuid::now_v7();
    let t = datetime!(2026-03-02 09:00 +8);
    let diverted = Fact::Routed(PetitionRouted {
        disposition: proto::RoutingDisposition::Divert as i32,
        routed_at: Some(timestamp(datetime!(2026-03-03 10:00 +8))),
        ..match routed(case_id, "xfj", 1, "") {
            Fact::Routed(e) => e,
            _ => unreachable!(),
        }
    });
    let record = fold(
        case_id,
        &[
            at(registered(case_id, proto::SourceLevel::Local, None), t),
            at(diverted, t + time::Duration::days(1)),
        ],
    )
    .expect("a record");
    assert_eq!(record.done_on, Some(date!(2026 - 03 - 03)));

    let again = Uuid::now_v7();
    let Fact::Registered(registration) = registered(again, proto::SourceLevel::Local, None) else {
        unreachable!()
    };
    let repeat_of_final = Fact::Registered(PetitionRegistered {
        repeats_final_case: "610481-2025-000009".into(),
        ..registration
    });
    let record = fold(again, &[at(repeat_of_final, t)]).expect("a record");
    assert_eq!(record.done_on, Some(date!(2026 - 03 - 02)));
}

fn clock(kind: proto::DeadlineKind, due: Date, reference: &str) -> proto::Deadline {
    proto::Deadline {
        kind: kind as i32,
        start: Some(calendar_date(date!(2026 - 03 - 01))),
        due: Some(calendar_date(due)),
        reference: reference.into(),
        state: proto::DeadlineState::Running as i32,
        ..Default::default()
    }
}

#[test]
fn a_due_day_the_calendar_moved_replaces_the_clock_and_a_letters_reply_is_not_the_cases_duty() {
    let case_id = Uuid::now_v7();
    let t = datetime!(2026-03-02 09:00 +8);
    let accepted = Fact::Advanced(CaseAdvanced {
        case_id: case_id.to_string(),
        stage: proto::CaseStage::Accepted as i32,
        occurred_on: Some(calendar_date(date!(2026 - 03 - 02))),
        deadlines: vec![
            clock(proto::DeadlineKind::Handling, date!(2026 - 05 - 01), ""),
            clock(
                proto::DeadlineKind::LetterReply,
                date!(2026 - 03 - 10),
                "兴信督〔2026〕1号",
            ),
        ],
        ..Default::default()
    });
    let moved = Fact::Moved(xinfang_proto::supervision::v1::DeadlineMoved {
        case_id: case_id.to_string(),
        kind: proto::DeadlineKind::Handling as i32,
        deadline: Some(clock(
            proto::DeadlineKind::Handling,
            date!(2026 - 05 - 06),
            "",
        )),
        ..Default::default()
    });
    let record = fold(
        case_id,
        &[
            at(registered(case_id, proto::SourceLevel::Local, None), t),
            at(accepted, t),
            at(moved, t + time::Duration::days(10)),
        ],
    )
    .expect("a record");
    assert_eq!(record.handling_due, Some(date!(2026 - 05 - 06)));
    // The letter's reply due on 03-10 does not make the case overdue.
    assert_eq!(record.open_duty_due, Some(date!(2026 - 05 - 06)));
}

#[test]
fn the_first_evaluation_stays_and_a_repeat_before_the_case_was_done_counts() {
    let (case_id, repeat) = (Uuid::now_v7(), Uuid::now_v7());
    let t = datetime!(2026-03-02 09:00 +8);
    let evaluated = |evaluation: proto::Evaluation, on: Date| {
        Fact::Advanced(CaseAdvanced {
            case_id: case_id.to_string(),
            stage: proto::CaseStage::Completed as i32,
            occurred_on: Some(calendar_date(on)),
            evaluation: evaluation as i32,
            ..Default::default()
        })
    };
    let record = fold(
        case_id,
        &[
            at(registered(case_id, proto::SourceLevel::Local, None), t),
            at(
                registered(repeat, proto::SourceLevel::Local, Some(case_id)),
                datetime!(2026-03-04 09:00 +8),
            ),
            at(
                step(case_id, proto::CaseStage::Completed, date!(2026 - 03 - 10)),
                datetime!(2026-03-10 09:00 +8),
            ),
            at(
                evaluated(proto::Evaluation::Satisfied, date!(2026 - 03 - 12)),
                datetime!(2026-03-12 09:00 +8),
            ),
            at(
                evaluated(proto::Evaluation::Dissatisfied, date!(2026 - 05 - 12)),
                datetime!(2026-05-12 09:00 +8),
            ),
        ],
    )
    .expect("a record");
    assert_eq!(
        (record.evaluation, record.evaluated_on),
        (Some(Evaluation::Satisfied), Some(date!(2026 - 03 - 12)))
    );
    assert_eq!(record.repeated_on, Some(date!(2026 - 03 - 04)));
}

#[test]
fn a_moved_due_day_moves_the_clock_it_names_not_a_closed_one_of_the_same_kind() {
    let case_id = Uuid::now_v7();
    let t = datetime!(2026-03-02 09:00 +8);
    let notice = |start: Date, due: Date, state: proto::DeadlineState| proto::Deadline {
        kind: proto::DeadlineKind::NoticeOfReceipt as i32,
        start: Some(calendar_date(start)),
        due: Some(calendar_date(due)),
        state: state as i32,
        ..Default::default()
    };
    // Re-routed before acceptance: the first unit's notice clock closed, the second's runs.
    let signed_again = Fact::Advanced(CaseAdvanced {
        case_id: case_id.to_string(),
        stage: proto::CaseStage::SignedFor as i32,
        occurred_on: Some(calendar_date(date!(2026 - 03 - 10))),
        deadlines: vec![
            notice(
                date!(2026 - 03 - 03),
                date!(2026 - 03 - 18),
                proto::DeadlineState::Closed,
            ),
            notice(
                date!(2026 - 03 - 10),
                date!(2026 - 03 - 25),
                proto::DeadlineState::Running,
            ),
        ],
        ..Default::default()
    });
    let moved = Fact::Moved(xinfang_proto::supervision::v1::DeadlineMoved {
        case_id: case_id.to_string(),
        kind: proto::DeadlineKind::NoticeOfReceipt as i32,
        deadline: Some(notice(
            date!(2026 - 03 - 10),
            date!(2026 - 03 - 27),
            proto::DeadlineState::Running,
        )),
        ..Default::default()
    });
    let record = fold(
        case_id,
        &[
            at(registered(case_id, proto::SourceLevel::Local, None), t),
            at(signed_again, datetime!(2026-03-10 09:00 +8)),
            at(moved, datetime!(2026-03-12 09:00 +8)),
        ],
    )
    .expect("a record");
    assert_eq!(
        record.acceptance.map(|duty| duty.due),
        Some(date!(2026 - 03 - 27))
    );
    assert_eq!(record.open_duty_due, Some(date!(2026 - 03 - 27)));
}
