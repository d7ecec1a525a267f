use time::macros::date;

use super::*;
use crate::ledger::{ClockState, DeadlineLedger};

fn calendar() -> HolidayCalendar {
    HolidayCalendar::official().expect("the project's holiday calendar")
}

const OWED: CaseFacts = CaseFacts { notice_owed: true };
const DAY: Date = date!(2026 - 03 - 02);

/// No clock's due day matters to the step.
fn no_dues(_: Clock) -> Option<Date> {
    None
}

/// The clocks a sign-for opens are running.
fn signed_for_dues(clock: Clock) -> Option<Date> {
    matches!(clock, Clock::NoticeOfReceipt | Clock::Objection).then_some(date!(2026 - 03 - 17))
}

/// One stage of each kind.
fn stages() -> Vec<Stage> {
    vec![
        Stage::Registered,
        Stage::HeldForTriage,
        Stage::Diverted,
        Stage::NotAcceptedFinal,
        Stage::Linked,
        Stage::AwaitingSignFor,
        Stage::SignedFor { on: DAY },
        Stage::ObjectionPending {
            signed_for_on: DAY,
            objected_on: DAY,
        },
        Stage::Returned { on: DAY },
        Stage::Accepted {
            on: DAY,
            extended_by: None,
        },
        Stage::Accepted {
            on: DAY,
            extended_by: Some(10),
        },
        Stage::Refused { on: DAY },
        Stage::Replied { on: DAY },
        Stage::Completed { served_on: DAY },
        Stage::UnderReview { requested_on: DAY },
        Stage::ReviewDecided { on: DAY },
        Stage::Reviewed { served_on: DAY },
        Stage::UnderReReview {
            requested_on: DAY,
            hearing_since: None,
        },
        Stage::UnderReReview {
            requested_on: DAY,
            hearing_since: Some(DAY),
        },
        Stage::ReReviewDecided { on: DAY },
        Stage::Final { served_on: DAY },
    ]
}

fn commands() -> Vec<Command> {
    vec![
        Command::SignFor,
        Command::Object,
        Command::DecideObjection { upheld: true },
        Command::Accept,
        Command::Refuse,
        Command::Extend { days: 30 },
        Command::RecordStep,
        Command::Reply {
            decision: ReplyDecision::Support,
        },
        Command::RecordService,
        Command::Evaluate(Evaluation::Satisfied),
        Command::RequestReview,
        Command::DecideReview {
            decision: ReplyDecision::Explain,
        },
        Command::RequestReReview,
        Command::OpenHearing,
        Command::CloseHearing,
        Command::DecideReReview {
            decision: ReplyDecision::Explain,
        },
        Command::ReportToUpstream,
    ]
}

/// Every (stage, command) the law allows, and the stage it leads to; every other pair is
/// refused naming the stage.
const ALLOWED: &[(&str, &str, &str)] = &[
    ("awaiting sign-for", "sign for", "signed for"),
    (
        "signed for",
        "object",
        "awaiting the bureau on an objection",
    ),
    (
        "awaiting the bureau on an objection",
        "decide the objection",
        "returned to the bureau",
    ),
    ("signed for", "accept", "accepted"),
    ("signed for", "refuse", "refused"),
    ("accepted", "extend", "accepted"),
    ("accepted", "record a handling step", "accepted"),
    ("accepted", "reply", "replied"),
    ("replied", "record service", "completed"),
    ("completed", "evaluate", "completed"),
    ("completed", "request review", "under review"),
    ("under review", "decide review", "review decided"),
    ("review decided", "record service", "reviewed"),
    ("reviewed", "evaluate", "reviewed"),
    ("reviewed", "request re-review", "under re-review"),
    ("under re-review", "open a hearing", "under re-review"),
    ("under re-review", "close the hearing", "under re-review"),
    ("under re-review", "decide re-review", "re-review decided"),
    ("re-review decided", "record service", "final"),
    ("final", "evaluate", "final"),
    // The result goes back to each higher bureau once there is one (Art 22).
    ("refused", REPORT, "refused"),
    (
        "not accepted: its matter is final after re-review",
        REPORT,
        "not accepted: its matter is final after re-review",
    ),
    (
        "diverted to a statutory channel",
        REPORT,
        "diverted to a statutory channel",
    ),
    ("replied", REPORT, "replied"),
    ("completed", REPORT, "completed"),
    ("under review", REPORT, "under review"),
    ("review decided", REPORT, "review decided"),
    ("reviewed", REPORT, "reviewed"),
    ("under re-review", REPORT, "under re-review"),
    ("re-review decided", REPORT, "re-review decided"),
    ("final", REPORT, "final"),
];

const REPORT: &str = "report the result to a higher bureau";

#[test]
fn every_command_in_every_stage_is_allowed_or_refused_naming_the_stage() {
    let calendar = calendar();
    for stage in stages() {
        for command in commands() {
            let outcome = decide(stage, command, DAY, OWED, no_dues, &calendar);
            let allowed = ALLOWED
                .iter()
                .find(|(from, what, _)| *from == stage.name() && *what == command.name());
            let hearing_open = matches!(
                stage,
                Stage::UnderReReview {
                    hearing_since: Some(_),
                    ..
                }
            );
            let special = match (stage, command) {
                (
                    Stage::Accepted {
                        extended_by: Some(_),
                        ..
                    },
                    Command::Extend { .. },
                ) => Some(Refusal::AlreadyExtended { stage: "accepted" }),
                // No clock open here: as after an objection made and rejected (the allowed
                // objection is `a_unit_objects_once_per_routing`).
                (Stage::SignedFor { .. }, Command::Object) => Some(Refusal::ObjectedAlready),
                // A hearing is opened once, closed once, and the decision waits for its end.
                (_, Command::OpenHearing | Command::DecideReReview { .. }) if hearing_open => {
                    Some(Refusal::NotAllowed {
                        command: command.name(),
                        stage: stage.name(),
                    })
                }
                (
                    Stage::UnderReReview {
                        hearing_since: None,
                        ..
                    },
                    Command::CloseHearing,
                ) => Some(Refusal::NotAllowed {
                    command: command.name(),
                    stage: stage.name(),
                }),
                _ => None,
            };
            match (special, allowed) {
                (Some(refusal), _) => assert_eq!(outcome, Err(refusal), "{stage:?} {command:?}"),
                (None, Some((_, _, to))) => assert_eq!(
                    outcome.map(|step| step.stage.name()),
                    Ok(*to),
                    "{stage:?} {command:?}"
                ),
                (None, None) => assert_eq!(
                    outcome,
                    Err(Refusal::NotAllowed {
                        command: command.name(),
                        stage: stage.name(),
                    }),
                    "{stage:?} {command:?}"
                ),
            }
        }
    }
}

#[test]
fn signing_for_opens_the_objection_window_and_the_notice_clock_when_owed() {
    let step = decide(
        Stage::AwaitingSignFor,
        Command::SignFor,
        DAY,
        OWED,
        no_dues,
        &calendar(),
    )
    .expect("signed for");
    assert_eq!(
        step.effects,
        vec![
            Effect::Open {
                clock: Clock::Objection,
                start: DAY,
                rule: OBJECTION
            },
            Effect::Open {
                clock: Clock::NoticeOfReceipt,
                start: DAY,
                rule: NOTICE_OF_RECEIPT
            },
        ]
    );
    let anonymous = CaseFacts { notice_owed: false };
    let step = decide(
        Stage::AwaitingSignFor,
        Command::SignFor,
        DAY,
        anonymous,
        no_dues,
        &calendar(),
    )
    .expect("signed for");
    assert_eq!(
        step.effects.len(),
        1,
        "no notice is owed: {:?}",
        step.effects
    );
}

#[test]
fn accepting_meets_the_notice_closes_the_objection_window_and_starts_handling() {
    let on = date!(2026 - 03 - 05);
    let step = decide(
        Stage::SignedFor { on: DAY },
        Command::Accept,
        on,
        OWED,
        signed_for_dues,
        &calendar(),
    )
    .expect("accepted");
    assert_eq!(
        step.effects,
        vec![
            Effect::Meet {
                clock: Clock::NoticeOfReceipt,
                on
            },
            Effect::Close {
                clock: Clock::Objection,
                on
            },
            Effect::Open {
                clock: Clock::Handling,
                start: on,
                rule: HANDLING
            },
        ]
    );
}

#[test]
fn the_handling_period_is_extended_once_by_at_most_thirty_days() {
    let accepted = Stage::Accepted {
        on: DAY,
        extended_by: None,
    };
    let calendar = calendar();
    assert_eq!(
        decide(
            accepted,
            Command::Extend { days: 31 },
            DAY,
            OWED,
            no_dues,
            &calendar
        ),
        Err(Refusal::ExtensionOutOfRange(31))
    );
    assert_eq!(
        decide(
            accepted,
            Command::Extend { days: 0 },
            DAY,
            OWED,
            no_dues,
            &calendar
        ),
        Err(Refusal::ExtensionOutOfRange(0))
    );
    let step = decide(
        accepted,
        Command::Extend { days: 30 },
        DAY,
        OWED,
        no_dues,
        &calendar,
    )
    .expect("extended");
    assert_eq!(
        step.effects,
        vec![Effect::Extend {
            clock: Clock::Handling,
            days: 30
        }]
    );
    assert_eq!(
        decide(
            step.stage,
            Command::Extend { days: 5 },
            DAY,
            OWED,
            no_dues,
            &calendar
        ),
        Err(Refusal::AlreadyExtended { stage: "accepted" })
    );
}

#[test]
fn review_is_asked_for_within_thirty_days_of_service_or_not_at_all() {
    // Served Monday 2 March 2026: the window's last day is Wednesday 1 April.
    let completed = Stage::Completed { served_on: DAY };
    let calendar = calendar();
    let last_day = date!(2026 - 04 - 01);
    assert!(
        decide(
            completed,
            Command::RequestReview,
            last_day,
            OWED,
            no_dues,
            &calendar
        )
        .is_ok()
    );
    assert_eq!(
        decide(
            completed,
            Command::RequestReview,
            date!(2026 - 04 - 02),
            OWED,
            no_dues,
            &calendar
        ),
        Err(Refusal::TooLate {
            command: "request review",
            stage: "completed",
            due: last_day
        })
    );
}

#[test]
fn a_dissatisfied_petitioner_gets_a_follow_up() {
    let completed = Stage::Completed { served_on: DAY };
    let step = decide(
        completed,
        Command::Evaluate(Evaluation::Dissatisfied),
        DAY,
        OWED,
        no_dues,
        &calendar(),
    )
    .expect("evaluated");
    assert_eq!(step.stage, completed);
    assert_eq!(
        step.effects,
        vec![
            Effect::Evaluated(Evaluation::Dissatisfied),
            Effect::FollowUp
        ]
    );
}

#[test]
fn a_case_goes_from_sign_for_to_final_with_every_duty_met_through_the_ledger() {
    let calendar = calendar();
    let path = [
        (Command::SignFor, date!(2026 - 03 - 02)),
        (Command::Accept, date!(2026 - 03 - 04)),
        (Command::RecordStep, date!(2026 - 03 - 20)),
        (
            Command::Reply {
                decision: ReplyDecision::NotSupport,
            },
            date!(2026 - 04 - 20),
        ),
        (Command::RecordService, date!(2026 - 04 - 22)),
        (Command::RequestReview, date!(2026 - 05 - 06)),
        (
            Command::DecideReview {
                decision: ReplyDecision::NotSupport,
            },
            date!(2026 - 05 - 29),
        ),
        (Command::RecordService, date!(2026 - 06 - 01)),
        (Command::RequestReReview, date!(2026 - 06 - 08)),
        (Command::OpenHearing, date!(2026 - 06 - 15)),
        (Command::CloseHearing, date!(2026 - 06 - 25)),
        (
            Command::DecideReReview {
                decision: ReplyDecision::NotSupport,
            },
            date!(2026 - 07 - 15),
        ),
        (Command::RecordService, date!(2026 - 07 - 17)),
    ];
    let mut stage = Stage::AwaitingSignFor;
    let mut ledger = DeadlineLedger::default();
    let mut effects = Vec::new();
    for (command, on) in path {
        let step = decide(
            stage,
            command,
            on,
            OWED,
            |clock| ledger.due(clock),
            &calendar,
        )
        .unwrap_or_else(|refusal| panic!("{command:?} on {on}: {refusal}"));
        for effect in &step.effects {
            ledger
                .apply(effect, &calendar)
                .unwrap_or_else(|error| panic!("{effect:?}: {error}"));
        }
        stage = step.stage;
        effects.extend(step.effects);
    }
    assert_eq!(
        stage,
        Stage::Final {
            served_on: date!(2026 - 07 - 17)
        }
    );
    // Every duty met in time — the re-review decision only because its hearing was not
    // counted (due 8 July without it) — and the objection window closed by acceptance.
    let states: Vec<(Clock, ClockState)> = ledger
        .entries
        .iter()
        .map(|entry| (entry.clock, entry.state(date!(2026 - 12 - 31))))
        .collect();
    assert_eq!(
        states,
        [
            (Clock::Objection, ClockState::Closed),
            (Clock::NoticeOfReceipt, ClockState::MetInTime),
            (Clock::Handling, ClockState::MetInTime),
            (Clock::ReviewRequest, ClockState::MetInTime),
            (Clock::ReviewDecision, ClockState::MetInTime),
            (Clock::ReReviewRequest, ClockState::MetInTime),
            (Clock::ReReviewDecision, ClockState::MetInTime),
        ]
    );
    assert_eq!(effects.last(), Some(&Effect::MatterFinal));
}

#[test]
fn an_overdue_handling_period_is_not_extended_after_the_fact() {
    let calendar = calendar();
    let accepted = Stage::Accepted {
        on: DAY,
        extended_by: None,
    };
    let due = date!(2026 - 05 - 06);
    let late = decide(
        accepted,
        Command::Extend { days: 30 },
        date!(2026 - 05 - 07),
        OWED,
        |clock| (clock == Clock::Handling).then_some(due),
        &calendar,
    );
    assert_eq!(
        late,
        Err(Refusal::TooLate {
            command: "extend",
            stage: "accepted",
            due
        })
    );
}

#[test]
fn a_hearing_cannot_open_after_the_re_review_decision_was_due() {
    let under = Stage::UnderReReview {
        requested_on: DAY,
        hearing_since: None,
    };
    let due = date!(2026 - 04 - 01);
    let late = decide(
        under,
        Command::OpenHearing,
        date!(2026 - 04 - 02),
        OWED,
        |clock| (clock == Clock::ReReviewDecision).then_some(due),
        &calendar(),
    );
    assert_eq!(
        late,
        Err(Refusal::TooLate {
            command: "open a hearing",
            stage: "under re-review",
            due
        })
    );
}

#[test]
fn re_review_is_asked_for_within_thirty_days_of_the_review_opinions_service() {
    let reviewed = Stage::Reviewed { served_on: DAY };
    let calendar = calendar();
    assert!(
        decide(
            reviewed,
            Command::RequestReReview,
            date!(2026 - 04 - 01),
            OWED,
            no_dues,
            &calendar
        )
        .is_ok()
    );
    assert!(matches!(
        decide(
            reviewed,
            Command::RequestReReview,
            date!(2026 - 04 - 02),
            OWED,
            no_dues,
            &calendar
        ),
        Err(Refusal::TooLate { .. })
    ));
}

#[test]
fn an_objection_within_five_working_days_goes_to_the_bureau_which_keeps_or_returns_the_case() {
    let calendar = calendar();
    let signed = Stage::SignedFor { on: DAY };
    // Signed for Monday 2 March 2026: the window's last day is Monday 9 March.
    let window = date!(2026 - 03 - 09);
    let dues = |clock| (clock == Clock::Objection).then_some(window);
    let late = decide(
        signed,
        Command::Object,
        date!(2026 - 03 - 10),
        OWED,
        dues,
        &calendar,
    );
    assert_eq!(
        late,
        Err(Refusal::TooLate {
            command: "object",
            stage: "signed for",
            due: window
        })
    );
    let objected =
        decide(signed, Command::Object, window, OWED, dues, &calendar).expect("objected");
    assert_eq!(
        objected.effects,
        vec![Effect::Meet {
            clock: Clock::Objection,
            on: window
        }]
    );
    let kept = decide(
        objected.stage,
        Command::DecideObjection { upheld: false },
        date!(2026 - 03 - 11),
        OWED,
        no_dues,
        &calendar,
    )
    .expect("decided");
    assert_eq!(kept.stage, signed);
    let returned = decide(
        objected.stage,
        Command::DecideObjection { upheld: true },
        date!(2026 - 03 - 11),
        OWED,
        signed_for_dues,
        &calendar,
    )
    .expect("decided");
    assert_eq!(
        returned.stage,
        Stage::Returned {
            on: date!(2026 - 03 - 11)
        }
    );
    assert_eq!(
        returned.effects,
        vec![Effect::Close {
            clock: Clock::NoticeOfReceipt,
            on: date!(2026 - 03 - 11)
        }]
    );
}

/// Runs `path` from awaiting sign-for through the ledger, as the service does.
fn through_the_ledger(facts: CaseFacts, path: &[(Command, Date)]) -> (Stage, DeadlineLedger) {
    let calendar = calendar();
    let mut stage = Stage::AwaitingSignFor;
    let mut ledger = DeadlineLedger::default();
    for (command, on) in path {
        let step = decide(
            stage,
            *command,
            *on,
            facts,
            |clock| ledger.due(clock),
            &calendar,
        )
        .unwrap_or_else(|refusal| panic!("{command:?} on {on}: {refusal}"));
        for effect in &step.effects {
            ledger
                .apply(effect, &calendar)
                .unwrap_or_else(|error| panic!("{command:?}: {effect:?}: {error}"));
        }
        stage = step.stage;
    }
    (stage, ledger)
}

#[test]
fn a_unit_whose_objection_was_rejected_accepts_the_case_as_any_other() {
    let (stage, ledger) = through_the_ledger(
        OWED,
        &[
            (Command::SignFor, date!(2026 - 03 - 02)),
            (Command::Object, date!(2026 - 03 - 04)),
            (
                Command::DecideObjection { upheld: false },
                date!(2026 - 03 - 06),
            ),
            (Command::Accept, date!(2026 - 03 - 09)),
        ],
    );
    assert!(matches!(stage, Stage::Accepted { .. }), "{stage:?}");
    let states: Vec<(Clock, ClockState)> = ledger
        .entries
        .iter()
        .map(|entry| (entry.clock, entry.state(date!(2026 - 03 - 09))))
        .collect();
    assert_eq!(
        states,
        [
            (Clock::Objection, ClockState::MetInTime),
            (Clock::NoticeOfReceipt, ClockState::MetInTime),
            (
                Clock::Handling,
                ClockState::Running {
                    due: date!(2026 - 05 - 08)
                }
            ),
        ]
    );
}

#[test]
fn a_notice_never_opened_is_not_met_when_the_facts_change_afterwards() {
    // Signed for while no notice was owed (say, no address known); the address arrives
    // later. Acceptance meets what is open, nothing else.
    let (stage, ledger) = through_the_ledger(
        CaseFacts { notice_owed: false },
        &[(Command::SignFor, date!(2026 - 03 - 02))],
    );
    let accepted = decide(
        stage,
        Command::Accept,
        date!(2026 - 03 - 03),
        OWED,
        |clock| ledger.due(clock),
        &calendar(),
    )
    .expect("accepted");
    assert!(
        !accepted.effects.iter().any(|effect| matches!(
            effect,
            Effect::Meet {
                clock: Clock::NoticeOfReceipt,
                ..
            }
        )),
        "{:?}",
        accepted.effects
    );
}

#[test]
fn a_unit_objects_once_per_routing() {
    let calendar = calendar();
    let signed_for = Stage::SignedFor { on: DAY };
    // The window open: the objection is heard.
    let window = |clock| (clock == Clock::Objection).then_some(date!(2026 - 03 - 09));
    assert!(decide(signed_for, Command::Object, DAY, OWED, window, &calendar).is_ok());
    // Rejected, the window was met: a second objection is refused, not an internal error.
    assert_eq!(
        decide(signed_for, Command::Object, DAY, OWED, |_| None, &calendar),
        Err(Refusal::ObjectedAlready)
    );
}
