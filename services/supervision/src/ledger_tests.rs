use time::macros::date;

use super::*;
use crate::deadlines::{HANDLING, NOTICE_OF_RECEIPT, OBJECTION, REVIEW_DECISION, REVIEW_REQUEST};

fn calendar() -> HolidayCalendar {
    HolidayCalendar::official().expect("the project's holiday calendar")
}

fn opened(clock: Clock, start: Date, rule: DeadlineRule) -> DeadlineLedger {
    let mut ledger = DeadlineLedger::default();
    ledger
        .apply(&Effect::Open { clock, start, rule }, &calendar())
        .expect("opened");
    ledger
}

#[test]
fn the_worked_example_signed_for_on_26_september_2025() {
    // DOMAIN.md: the objection window counts the Sunday make-up day 09-28 and ends 10-10;
    // the notice deadline ends 10-11, itself a make-up working day, so it does not move.
    let calendar = calendar();
    let mut ledger = DeadlineLedger::default();
    let start = date!(2025 - 09 - 26);
    for (clock, rule) in [
        (Clock::Objection, OBJECTION),
        (Clock::NoticeOfReceipt, NOTICE_OF_RECEIPT),
    ] {
        ledger
            .apply(&Effect::Open { clock, start, rule }, &calendar)
            .expect("opened");
    }
    let dues: Vec<(Clock, Date, &str)> = ledger
        .entries
        .iter()
        .map(|entry| (entry.clock, entry.due, entry.basis.as_str()))
        .collect();
    assert_eq!(
        dues,
        [
            (Clock::Objection, date!(2025 - 10 - 10), "Art 23"),
            (Clock::NoticeOfReceipt, date!(2025 - 10 - 11), "Art 23"),
        ]
    );
}

#[test]
fn an_extension_adds_its_days_and_the_due_day_still_rolls_off_a_weekend() {
    let calendar = calendar();
    let mut ledger = opened(Clock::Handling, date!(2026 - 06 - 01), HANDLING);
    assert_eq!(ledger.entries[0].due, date!(2026 - 07 - 31));
    ledger
        .apply(
            &Effect::Extend {
                clock: Clock::Handling,
                days: 30,
            },
            &calendar,
        )
        .expect("applied");
    // 30 August 2026 is a Sunday.
    assert_eq!(ledger.entries[0].due, date!(2026 - 08 - 31));
    assert_eq!(ledger.entries[0].extended_by, 30);
}

#[test]
fn hearing_days_are_not_counted() {
    let calendar = calendar();
    let mut ledger = opened(
        Clock::ReReviewDecision,
        date!(2026 - 06 - 08),
        REVIEW_DECISION,
    );
    assert_eq!(ledger.entries[0].due, date!(2026 - 07 - 08));
    ledger
        .apply(
            &Effect::Pause {
                clock: Clock::ReReviewDecision,
                on: date!(2026 - 06 - 15),
            },
            &calendar,
        )
        .expect("applied");
    assert_eq!(
        ledger.entries[0].state(date!(2026 - 07 - 10)),
        ClockState::Paused
    );
    ledger
        .apply(
            &Effect::Resume {
                clock: Clock::ReReviewDecision,
                on: date!(2026 - 06 - 25),
            },
            &calendar,
        )
        .expect("applied");
    // The eleven hearing days, 15 to 25 June, are not counted: 19 July, a Sunday, so
    // Monday 20 July.
    assert_eq!(ledger.entries[0].due, date!(2026 - 07 - 20));
    assert_eq!(ledger.entries[0].paused_days, 11);
}

#[test]
fn a_clock_is_running_overdue_met_in_time_or_met_late() {
    let calendar = calendar();
    let mut ledger = opened(Clock::Handling, date!(2026 - 06 - 01), HANDLING);
    let due = date!(2026 - 07 - 31);
    assert_eq!(ledger.entries[0].state(due), ClockState::Running { due });
    assert_eq!(
        ledger.entries[0].state(date!(2026 - 08 - 01)),
        ClockState::Overdue { due }
    );
    assert_eq!(ledger.overdue(date!(2026 - 08 - 01)).count(), 1);
    ledger
        .apply(
            &Effect::Meet {
                clock: Clock::Handling,
                on: date!(2026 - 08 - 03),
            },
            &calendar,
        )
        .expect("applied");
    assert_eq!(
        ledger.entries[0].state(date!(2026 - 09 - 01)),
        ClockState::MetLate { days_late: 3 }
    );
    assert_eq!(ledger.overdue(date!(2026 - 09 - 01)).count(), 0);

    let mut in_time = opened(Clock::Handling, date!(2026 - 06 - 01), HANDLING);
    in_time
        .apply(
            &Effect::Meet {
                clock: Clock::Handling,
                on: due,
            },
            &calendar,
        )
        .expect("applied");
    assert_eq!(in_time.entries[0].state(due), ClockState::MetInTime);
}

#[test]
fn a_closed_clock_is_neither_met_nor_overdue() {
    let mut ledger = opened(Clock::Objection, date!(2026 - 06 - 01), OBJECTION);
    ledger
        .apply(
            &Effect::Close {
                clock: Clock::Objection,
                on: date!(2026 - 06 - 02),
            },
            &calendar(),
        )
        .expect("applied");
    assert_eq!(
        ledger.entries[0].state(date!(2026 - 12 - 31)),
        ClockState::Closed
    );
}

#[test]
fn a_deadline_in_an_unpublished_year_is_provisional_and_moves_when_the_notice_is_loaded() {
    // Handling accepted on 20 November 2026 reaches into 2027, whose notice is not loaded:
    // 19 January 2027 is presumed a working Tuesday.
    let mut ledger = opened(Clock::Handling, date!(2026 - 11 - 20), HANDLING);
    assert_eq!(ledger.entries[0].due, date!(2027 - 01 - 19));
    assert!(ledger.entries[0].provisional);
    assert!(
        ledger.entries[0]
            .calendar_version
            .starts_with("notices 2022,2023,2024,2025,2026 #"),
        "{}",
        ledger.entries[0].calendar_version
    );

    // A 2027 notice that makes 19 January a rest day.
    let notice_2027 = r#"{"year": 2027, "papers": [], "days": [
        {"name": "test", "date": "2027-01-19", "isOffDay": true}
    ]}"#;
    let official = [include_str!("../data/holiday-cn/2026.json"), notice_2027];
    let loaded = HolidayCalendar::from_notices(official).expect("notices");
    let moved = ledger.recompute(&loaded);
    assert_eq!(
        moved,
        [Moved {
            entry: 0,
            from: date!(2027 - 01 - 19),
            to: date!(2027 - 01 - 20),
        }]
    );
    assert!(!ledger.entries[0].provisional);
    assert_eq!(ledger.entries[0].calendar_version, loaded.version());
    assert!(loaded.version().starts_with("notices 2026,2027 #"));
    // Nothing provisional is left to move.
    assert!(ledger.recompute(&loaded).is_empty());
}

#[test]
fn a_window_that_runs_out_lapses_and_nobody_is_overdue() {
    let ledger = opened(Clock::ReviewRequest, date!(2026 - 06 - 01), REVIEW_REQUEST);
    let due = date!(2026 - 07 - 01);
    assert_eq!(
        ledger.entries[0].state(date!(2026 - 07 - 02)),
        ClockState::Lapsed { due }
    );
    assert_eq!(ledger.overdue(date!(2026 - 07 - 02)).count(), 0);
}

#[test]
fn an_effect_on_a_clock_that_is_not_open_is_an_error() {
    let mut ledger = DeadlineLedger::default();
    assert_eq!(
        ledger.apply(
            &Effect::Meet {
                clock: Clock::Handling,
                on: date!(2026 - 06 - 01)
            },
            &calendar()
        ),
        Err(LedgerError::NoOpenClock(Clock::Handling))
    );
    let mut objection = opened(Clock::Objection, date!(2026 - 06 - 01), OBJECTION);
    assert_eq!(
        objection.apply(
            &Effect::Pause {
                clock: Clock::Objection,
                on: date!(2026 - 06 - 02)
            },
            &calendar()
        ),
        Err(LedgerError::PauseOnWorkingDays(Clock::Objection))
    );
}
