use time::macros::date;
use uuid::Uuid;
use xinfang_proto::statistics::v1::{Rate, StatusSplit};
use xinfang_proto::v1::Evaluation;
use xinfang_proto::vocabulary::{Channel, SourceLevel};

use super::*;
use crate::formula::formula;
use crate::record::{CaseRecord, Duty};

const H1: Period = Period {
    first: date!(2026 - 01 - 01),
    last: date!(2026 - 06 - 30),
};

/// An online case of the bureau's own, registered on 2026-03-02 and routed to Zhaocun under
/// Nanshi; nothing done on it yet.
fn case() -> CaseRecord {
    CaseRecord {
        case_id: Uuid::now_v7(),
        case_number: "610481-2026-000001".into(),
        registered_on: Some(date!(2026 - 03 - 02)),
        channel: Some(Channel::Online),
        sources: vec![SourceLevel::Local],
        unit_code: Some("zhaocun".into()),
        lead_path: vec!["nanshi".into(), "zhaocun".into()],
        people: 1,
        ..CaseRecord::default()
    }
}

fn v1(records: &[CaseRecord], on: Date) -> Figures {
    figures(
        records,
        &H1,
        &Filter::default(),
        on,
        &formula("v1").expect("v1"),
    )
}

fn counts(rate: Option<Rate>) -> (u64, u64, Option<u32>, u64, u64) {
    let rate = rate.expect("a rate");
    (
        rate.numerator,
        rate.denominator,
        rate.basis_points,
        rate.late,
        rate.overdue,
    )
}

/// (cases, done, in deadline, overdue).
fn split_of(done: u64, in_deadline: u64, overdue: u64) -> (u64, u64, u64, u64) {
    (done + in_deadline + overdue, done, in_deadline, overdue)
}

fn four(split: Option<StatusSplit>) -> (u64, u64, u64, u64) {
    let s = split.expect("a split");
    (s.cases, s.done, s.in_deadline, s.overdue)
}

#[test]
fn nothing_due_in_the_period_gives_no_rate_rather_than_zero_or_a_hundred() {
    // Accepted on time is not due yet: the notice clock runs to 03-20.
    let running = CaseRecord {
        acceptance: Some(Duty {
            due: date!(2026 - 03 - 20),
            met_on: None,
            closed: false,
        }),
        ..case()
    };
    let figures = v1(&[running], date!(2026 - 03 - 10));
    assert_eq!(counts(figures.timely_acceptance), (0, 0, None, 0, 0));
    assert_eq!(counts(figures.on_time_reply), (0, 0, None, 0, 0));
    assert_eq!(counts(figures.participation), (0, 0, None, 0, 0));
    assert_eq!(four(figures.status), split_of(0, 1, 0));
    // And an empty period is empty, not an error.
    let empty = v1(&[], date!(2026 - 03 - 10));
    assert_eq!(empty.petitions, 0);
    assert_eq!(counts(empty.repeat_rate), (0, 0, None, 0, 0));
}

#[test]
fn acceptance_in_time_late_and_overdue_unaccepted_are_three_buckets() {
    let notice = |met_on| Duty {
        due: date!(2026 - 03 - 20),
        met_on,
        closed: false,
    };
    let in_time = CaseRecord {
        acceptance: Some(notice(Some(date!(2026 - 03 - 20)))),
        accepted_on: Some(date!(2026 - 03 - 20)),
        ..case()
    };
    let late = CaseRecord {
        acceptance: Some(notice(Some(date!(2026 - 03 - 21)))),
        accepted_on: Some(date!(2026 - 03 - 21)),
        ..case()
    };
    let overdue = CaseRecord {
        acceptance: Some(notice(None)),
        open_duty_due: Some(date!(2026 - 03 - 20)),
        ..case()
    };
    // The objection upheld closed the clock: that unit owed no acceptance.
    let returned = CaseRecord {
        acceptance: Some(Duty {
            closed: true,
            ..notice(None)
        }),
        ..case()
    };
    let figures = v1(&[in_time, late, overdue, returned], date!(2026 - 04 - 01));
    assert_eq!(counts(figures.timely_acceptance), (1, 3, Some(3333), 1, 1));
    assert_eq!(four(figures.status), split_of(0, 3, 1));
    // In deadline, the two that gave their notice are accepted; the returned one is not.
    assert_eq!(figures.status.map(|s| s.in_deadline_accepted), Some(2));
}

#[test]
fn a_reply_late_and_one_still_missing_count_against_the_on_time_reply_rate() {
    let handled = |replied_on, completed_on| CaseRecord {
        handling_due: Some(date!(2026 - 05 - 01)),
        replied_on,
        completed_on,
        done_on: completed_on,
        ..case()
    };
    let on_time = handled(Some(date!(2026 - 04 - 20)), Some(date!(2026 - 04 - 25)));
    // Replied in time, but served after the due day: completed late.
    let served_late = handled(Some(date!(2026 - 04 - 30)), Some(date!(2026 - 05 - 03)));
    let replied_late = handled(Some(date!(2026 - 05 - 02)), Some(date!(2026 - 05 - 04)));
    let overdue_open = CaseRecord {
        open_duty_due: Some(date!(2026 - 05 - 01)),
        ..handled(None, None)
    };
    let figures = v1(
        &[on_time, served_late, replied_late, overdue_open],
        date!(2026 - 05 - 10),
    );
    assert_eq!(counts(figures.on_time_reply), (2, 4, Some(5000), 1, 1));
    assert_eq!(counts(figures.on_time_completion), (1, 4, Some(2500), 2, 1));
    assert_eq!(four(figures.status), split_of(3, 0, 1));
}

#[test]
fn the_figures_are_judged_on_the_as_of_day() {
    let record = CaseRecord {
        handling_due: Some(date!(2026 - 05 - 01)),
        replied_on: Some(date!(2026 - 05 - 05)),
        completed_on: Some(date!(2026 - 05 - 06)),
        done_on: Some(date!(2026 - 05 - 06)),
        ..case()
    };
    // On 04-30 nothing was due yet; on 05-03 the reply was overdue; from 05-06 done, late.
    let before = v1(std::slice::from_ref(&record), date!(2026 - 04 - 30));
    assert_eq!(counts(before.on_time_reply), (0, 0, None, 0, 0));
    let between = v1(std::slice::from_ref(&record), date!(2026 - 05 - 03));
    assert_eq!(counts(between.on_time_reply), (0, 1, Some(0), 0, 1));
    let after = v1(&[record], date!(2026 - 05 - 06));
    assert_eq!(counts(after.on_time_reply), (0, 1, Some(0), 1, 0));
    assert_eq!(four(after.status), split_of(1, 0, 0));
}

#[test]
fn an_evaluation_outside_the_window_is_evaluable_but_not_evaluated() {
    let served = |evaluation: Option<Evaluation>, evaluated_on| CaseRecord {
        completed_on: Some(date!(2026 - 04 - 01)),
        done_on: Some(date!(2026 - 04 - 01)),
        evaluation,
        evaluated_on,
        ..case()
    };
    let satisfied = served(Some(Evaluation::Satisfied), Some(date!(2026 - 04 - 05)));
    let basically = served(
        Some(Evaluation::BasicallySatisfied),
        Some(date!(2026 - 05 - 01)),
    );
    // Evaluated on day 31: outside the 30-day window.
    let too_late = served(Some(Evaluation::Satisfied), Some(date!(2026 - 05 - 02)));
    let silent = served(None, None);
    let records = [satisfied, basically, too_late, silent];
    let figures = v1(&records, date!(2026 - 06 - 01));
    assert_eq!(counts(figures.participation), (2, 4, Some(5000), 0, 0));
    assert_eq!(counts(figures.satisfaction), (2, 2, Some(10000), 0, 0));
    // Inside the window a silent case is not evaluable yet.
    let early = v1(&records, date!(2026 - 04 - 10));
    assert_eq!(counts(early.participation), (1, 1, Some(10000), 0, 0));
    // Version 2 counts 满意 only, and says so.
    let strict = figures_v2(&records, date!(2026 - 06 - 01));
    assert_eq!(strict.formula_version, "v2");
    assert_eq!(
        counts(strict.satisfaction.clone()),
        (1, 2, Some(5000), 0, 0)
    );
    assert_eq!(strict.satisfaction.expect("rate").formula, "满意 / 参评");
}

fn figures_v2(records: &[CaseRecord], on: Date) -> Figures {
    figures(
        records,
        &H1,
        &Filter::default(),
        on,
        &formula("v2").expect("v2"),
    )
}

#[test]
fn repeats_are_petitions_not_cases_and_undo_a_first_time_resolution_within_the_window() {
    let first = CaseRecord {
        first_time: true,
        done_on: Some(date!(2026 - 03 - 10)),
        repeated_on: Some(date!(2026 - 04 - 01)),
        ..case()
    };
    let resolved = CaseRecord {
        first_time: true,
        done_on: Some(date!(2026 - 03 - 10)),
        ..case()
    };
    let open = CaseRecord {
        first_time: true,
        ..case()
    };
    let repeat = CaseRecord {
        repeat_of: Some(first.case_id),
        people: 3,
        ..case()
    };
    let figures = v1(&[first, resolved, open, repeat], date!(2026 - 06 - 01));
    assert_eq!(figures.petitions, 4);
    assert_eq!(figures.person_times, 6);
    assert_eq!(figures.status.map(|s| s.cases), Some(3));
    assert_eq!(counts(figures.repeat_rate), (1, 4, Some(2500), 0, 0));
    assert_eq!(
        counts(figures.first_time_resolution),
        (1, 3, Some(3333), 0, 0)
    );
}

#[test]
fn a_case_counts_under_every_source_and_the_unit_filter_takes_the_subtree() {
    let both = CaseRecord {
        sources: vec![SourceLevel::Provincial, SourceLevel::National],
        ..case()
    };
    let elsewhere = CaseRecord {
        unit_code: Some("dongcheng".into()),
        lead_path: vec!["dongcheng".into()],
        ..case()
    };
    let outside = CaseRecord {
        registered_on: Some(date!(2026 - 07 - 01)),
        ..case()
    };
    let records = [both, elsewhere, outside];
    let figures = v1(&records, date!(2026 - 03 - 03));
    let keys: Vec<(String, u64)> = figures
        .by_source
        .iter()
        .map(|row| (row.key.clone(), row.status.as_ref().map_or(0, |s| s.cases)))
        .collect();
    assert_eq!(
        keys,
        [
            ("local".into(), 1),
            ("national".into(), 1),
            ("provincial".into(), 1)
        ]
    );
    let town = Filter {
        unit: Some("nanshi".into()),
        ..Filter::default()
    };
    let formula = formula("v1").expect("v1");
    let nanshi = figures_with(&records, &town, &formula);
    assert_eq!(nanshi.status.map(|s| s.cases), Some(1));
    let handler = Filter {
        scope: Some(vec!["dongcheng".into()]),
        ..Filter::default()
    };
    let scoped = figures_with(&records, &handler, &formula);
    assert_eq!(scoped.by_unit.len(), 1);
    assert_eq!(scoped.by_unit[0].key, "dongcheng");
}

fn figures_with(records: &[CaseRecord], filter: &Filter, formula: &Formula) -> Figures {
    figures(records, &H1, filter, date!(2026 - 03 - 03), formula)
}

#[test]
fn visits_count_in_batches_and_person_times() {
    let visit = |people, collective| CaseRecord {
        channel: Some(Channel::Visit),
        people,
        collective,
        ..case()
    };
    let figures = v1(
        &[visit(1, false), visit(12, true), case()],
        date!(2026 - 03 - 03),
    );
    assert_eq!(
        (
            figures.visit_batches,
            figures.visit_person_times,
            figures.collective_visit_batches,
            figures.person_times
        ),
        (2, 13, 1, 14)
    );
}
