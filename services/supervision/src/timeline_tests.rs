use time::macros::{date, datetime};

use super::*;
use crate::ledger::ClockState;

fn calendar() -> HolidayCalendar {
    HolidayCalendar::official().expect("official calendar")
}

/// DOMAIN.md's worked example: received Friday 2025-09-26 (China Standard Time).
fn registered() -> CaseRecord {
    new_case(
        Uuid::nil(),
        "XF-1",
        datetime!(2025-09-26 10:00 +8),
        false,
        datetime!(2025-09-26 02:00 UTC),
        &calendar(),
    )
}

fn routing(disposition: Disposition) -> Routing {
    Routing {
        case_number: "XF-1".into(),
        received_at: datetime!(2025-09-26 10:00 +8),
        anonymous: false,
        unit_code: "zhaocun".into(),
        unit_path: "/nanshi/zhaocun/".into(),
        unit_kind: Some(UnitKind::Town),
        disposition,
        track: Some(LegalTrack::Appeal),
        routed_at: datetime!(2025-09-29 09:00 +8),
        upstream_deadline: None,
        revision: 1,
        assignment_deadline: None,
        diverted: disposition == Disposition::Divert,
    }
}

#[test]
fn the_forward_clock_opens_at_the_bureaus_receipt() {
    let case = registered();
    assert_eq!(case.stage, Stage::Registered);
    let forward = &case.ledger.entries[0];
    assert_eq!(forward.clock, DeadlineKind::Forward);
    assert_eq!(forward.start, date!(2025 - 09 - 26));
    // 15 days end on 10-11, a make-up working day after the National Day break.
    assert_eq!(forward.due, date!(2025 - 10 - 11));
    assert_eq!(forward.start_event, "registered");
    assert_eq!(forward.basis, "Art 22");
}

#[test]
fn forwarding_meets_the_forward_clock_and_the_unit_awaits_sign_for() {
    let mut case = registered();
    assert!(route(
        &mut case,
        &routing(Disposition::Forward),
        &calendar()
    ));
    assert_eq!(case.stage, Stage::AwaitingSignFor);
    assert_eq!(
        case.ledger.entries[0].state(date!(2025 - 12 - 01)),
        ClockState::MetInTime
    );
    // No notice clock before the unit signs for the case (Art 23 runs from its receipt).
    assert_eq!(case.ledger.entries.len(), 1);
}

#[test]
fn a_case_held_for_triage_keeps_its_forward_clock_running_until_it_is_overdue() {
    let mut case = registered();
    assert!(route(&mut case, &routing(Disposition::Triage), &calendar()));
    assert_eq!(case.stage, Stage::HeldForTriage);
    assert_eq!(
        case.ledger.entries[0].state(date!(2025 - 10 - 11)),
        ClockState::Running {
            due: date!(2025 - 10 - 11)
        }
    );
    assert_eq!(
        case.ledger.entries[0].state(date!(2025 - 10 - 12)),
        ClockState::Overdue {
            due: date!(2025 - 10 - 11)
        }
    );
    // A clerk routes it by hand later: then it is met, late.
    let mut by_hand = routing(Disposition::Forward);
    by_hand.routed_at = datetime!(2025-10-20 09:00 +8);
    by_hand.revision = 2;
    assert!(route(&mut case, &by_hand, &calendar()));
    assert_eq!(
        case.ledger.entries[0].state(date!(2025 - 10 - 20)),
        ClockState::MetLate { days_late: 9 }
    );
}

#[test]
fn a_routing_decision_recorded_already_changes_nothing() {
    let mut case = registered();
    assert!(route(
        &mut case,
        &routing(Disposition::Forward),
        &calendar()
    ));
    let before = case.clone();
    assert!(!route(
        &mut case,
        &routing(Disposition::Forward),
        &calendar()
    ));
    assert_eq!(case.ledger, before.ledger);
    assert_eq!(case.stage, before.stage);
}

#[test]
fn each_higher_bureaus_deadline_is_kept_as_set_whichever_event_comes_first() {
    let mut case = registered();
    let mut routed = routing(Disposition::Assign);
    routed.upstream_deadline = Some(date!(2025 - 10 - 05));
    route(&mut case, &routed, &calendar());
    register(
        &mut case,
        &Registration {
            case_number: "XF-1".into(),
            received_at: datetime!(2025-09-26 10:00 +8),
            anonymous: false,
            address_unknown: true,
            upstream: Some(("GJ-2025-77".into(), date!(2025 - 10 - 05))),
            repeats_final_case: None,
        },
        &calendar(),
    );
    let upstream: Vec<_> = case
        .ledger
        .entries
        .iter()
        .filter(|entry| entry.clock == DeadlineKind::Upstream)
        .map(|entry| (entry.reference.as_str(), entry.due))
        .collect();
    assert_eq!(upstream, vec![("GJ-2025-77", date!(2025 - 10 - 05))]);
    assert!(case.row.address_unknown);
    assert!(!case.facts().notice_owed);
}

#[test]
fn a_statutory_channel_matter_is_diverted_and_closed_not_forwarded() {
    let mut case = registered();
    // As an event from before routing had the divert disposition says it: forwarded, on
    // the statutory-channel track (the decoder reads it as diverted).
    let mut diverted = routing(Disposition::Forward);
    diverted.track = Some(LegalTrack::StatutoryChannel);
    diverted.unit_kind = Some(UnitKind::StatutoryBody);
    diverted.diverted = true;
    assert!(route(&mut case, &diverted, &calendar()));
    assert_eq!(case.stage, Stage::Diverted);
    // The bureau's forward clock is met by the diversion; no unit clock opens, ever.
    assert_eq!(
        case.ledger.entries[0].state(date!(2025 - 12 - 01)),
        ClockState::MetInTime
    );
    assert_eq!(case.ledger.entries.len(), 1);
    assert!(!case.stage.is_at_a_unit());
}

#[test]
fn a_matter_final_after_re_review_is_registered_and_not_accepted() {
    // Routing's decision (to the bureau, for triage) may come first, or not.
    for routed_first in [true, false] {
        let mut case = registered();
        if routed_first {
            route(&mut case, &routing(Disposition::Triage), &calendar());
        }
        register(
            &mut case,
            &Registration {
                case_number: "XF-1".into(),
                received_at: datetime!(2025-09-26 10:00 +8),
                anonymous: false,
                address_unknown: false,
                upstream: None,
                repeats_final_case: Some("XF-0".into()),
            },
            &calendar(),
        );
        if !routed_first {
            // Recorded where routing put it, once, and still not accepted.
            assert!(route(&mut case, &routing(Disposition::Triage), &calendar()));
            assert!(!route(
                &mut case,
                &routing(Disposition::Triage),
                &calendar()
            ));
        }
        assert!(case.row.routed_at.is_some());
        assert_eq!(
            case.stage,
            Stage::NotAcceptedFinal,
            "routed first: {routed_first}"
        );
        // Nothing to forward: the clock stopped, nobody is late.
        assert_eq!(
            case.ledger.entries[0].state(date!(2025 - 12 - 01)),
            ClockState::Closed
        );
    }
}

#[test]
fn a_case_follows_the_newest_routing_revision_and_never_an_older_one() {
    let mut case = registered();
    assert!(route(
        &mut case,
        &routing(Disposition::Forward),
        &calendar()
    ));
    // Signed for by 赵村镇, then re-routed to 东城街道 (revision 2): the first unit's clocks
    // stop, neither met nor missed; the case awaits the new unit's sign-for.
    let calendar = calendar();
    let step = crate::lifecycle::decide(
        case.stage,
        crate::lifecycle::Command::SignFor,
        date!(2025 - 09 - 30),
        case.facts(),
        |clock| case.ledger.due(clock),
        &calendar,
    )
    .expect("signed for");
    case.ledger
        .apply_step(&step.effects, "signed-for", &calendar)
        .expect("applied");
    case.stage = step.stage;
    let mut moved = routing(Disposition::Forward);
    moved.unit_code = "dongcheng".into();
    moved.unit_path = "/dongcheng/".into();
    moved.revision = 2;
    moved.routed_at = datetime!(2025-10-09 09:00 +8);
    assert!(route(&mut case, &moved, &calendar));
    assert_eq!(case.stage, Stage::AwaitingSignFor);
    assert_eq!(case.row.unit_code, "dongcheng");
    assert_eq!(case.row.routing_revision, 2);
    let closed: Vec<(DeadlineKind, ClockState)> = case
        .ledger
        .entries
        .iter()
        .map(|entry| (entry.clock, entry.state(date!(2025 - 12 - 01))))
        .collect();
    assert_eq!(
        closed,
        [
            (DeadlineKind::Forward, ClockState::MetInTime),
            (DeadlineKind::Objection, ClockState::Closed),
            (DeadlineKind::NoticeOfReceipt, ClockState::Closed),
        ]
    );
    // The first decision arriving late changes nothing.
    assert!(!route(&mut case, &routing(Disposition::Forward), &calendar));
    assert_eq!(case.row.unit_code, "dongcheng");
}

#[test]
fn a_case_a_unit_accepted_changes_hands_without_restarting_its_procedure() {
    let mut case = registered();
    route(&mut case, &routing(Disposition::Forward), &calendar());
    let accepted = Stage::Accepted {
        on: date!(2025 - 10 - 09),
        extended_by: None,
    };
    case.stage = accepted;
    let before = case.ledger.clone();
    let mut moved = routing(Disposition::Forward);
    moved.unit_code = "dongcheng".into();
    moved.unit_path = "/dongcheng/".into();
    moved.revision = 2;
    // Who may see it follows the decision, as in every service; the stage and the clocks
    // stay (such a move is the objection procedure's to decide).
    assert!(route(&mut case, &moved, &calendar()));
    assert_eq!(case.row.unit_code, "dongcheng");
    assert_eq!(case.stage, accepted);
    assert_eq!(case.ledger, before);
}

#[test]
fn a_statutory_matter_a_clerk_forwards_is_a_forwarded_case() {
    let mut case = registered();
    let mut forwarded = routing(Disposition::Forward);
    forwarded.track = Some(LegalTrack::StatutoryChannel);
    assert!(route(&mut case, &forwarded, &calendar()));
    assert_eq!(case.stage, Stage::AwaitingSignFor);
}

#[test]
fn a_diverted_disposition_closes_the_case_as_diverted() {
    let mut case = registered();
    let mut diverted = routing(Disposition::Divert);
    diverted.track = Some(LegalTrack::StatutoryChannel);
    assert!(route(&mut case, &diverted, &calendar()));
    assert_eq!(case.stage, Stage::Diverted);
}

#[test]
fn a_case_classified_anew_at_its_unit_goes_on_where_it_stands() {
    let calendar = calendar();
    let mut case = registered();
    assert!(route(&mut case, &routing(Disposition::Forward), &calendar));
    case.stage = Stage::SignedFor {
        on: date!(2025 - 09 - 30),
    };
    // A clerk's revision at the same unit, the category (and so the track) corrected.
    let reclassified = Routing {
        revision: 2,
        track: Some(LegalTrack::Suggestion),
        ..routing(Disposition::Forward)
    };
    assert!(!moves(&case, &reclassified));
    route(&mut case, &reclassified, &calendar);
    assert_eq!(
        case.stage,
        Stage::SignedFor {
            on: date!(2025 - 09 - 30)
        }
    );
    assert_eq!(case.row.track, LegalTrack::Suggestion.code());
    // Another unit is a move, as before.
    let elsewhere = Routing {
        revision: 3,
        unit_code: "dongcheng".into(),
        ..routing(Disposition::Forward)
    };
    assert!(moves(&case, &elsewhere));
}
