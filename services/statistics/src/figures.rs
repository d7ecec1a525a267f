//! The figures of DOMAIN.md, from case records: plain, records in and figures out, judged on
//! one day (the as-of day, China time). Every period counts the cases received in it (the
//! seed's way: 共接收…件，其中办结…件，剩余…件均在办理期限内), and every rate is over those
//! of them that were due.

use std::collections::BTreeMap;

use time::{Date, Duration};
use xinfang_proto::statistics::v1::{Breakdown, Figures, Rate, StatusSplit};
use xinfang_proto::v1::Evaluation;
use xinfang_proto::vocabulary::{Channel, LegalTrack, SourceLevel};

use crate::formula::Formula;
use crate::period::Period;
use crate::record::{CaseRecord, Duty};

/// Which cases a figure is about; `None` is any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub source: Option<SourceLevel>,
    pub channel: Option<Channel>,
    /// The lead unit, or a unit above it.
    pub unit: Option<String>,
    pub matter_category: Option<String>,
    pub territory_code: Option<String>,
    pub track: Option<LegalTrack>,
    /// A unit handler's units: only cases led by one of them or a unit under them.
    pub scope: Option<Vec<String>>,
}

impl Filter {
    pub fn admits(&self, record: &CaseRecord) -> bool {
        let under = |unit: &String| record.lead_path.contains(unit);
        self.source
            .is_none_or(|source| record.sources.contains(&source))
            && self
                .channel
                .is_none_or(|channel| record.channel == Some(channel))
            && self.unit.as_ref().is_none_or(under)
            && self
                .scope
                .as_ref()
                .is_none_or(|units| units.iter().any(under))
            && self
                .matter_category
                .as_ref()
                .is_none_or(|c| record.matter_category.as_ref() == Some(c))
            && self
                .territory_code
                .as_ref()
                .is_none_or(|t| record.territory_code.as_ref() == Some(t))
            && self.track.is_none_or(|track| record.track == Some(track))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Done,
    InDeadline,
    Overdue,
}

/// Where a case stands on `on`: done, or overdue once a duty's due day is past.
pub fn status(record: &CaseRecord, on: Date) -> Status {
    if record.done_on.is_some_and(|done| done <= on) {
        Status::Done
    } else if record.open_duty_due.is_some_and(|due| due < on) {
        Status::Overdue
    } else {
        Status::InDeadline
    }
}

/// Whether the unit had accepted the case (受理) by `on`, notice owed or not.
pub fn accepted(record: &CaseRecord, on: Date) -> bool {
    record.accepted_on.is_some_and(|accepted| accepted <= on)
}

/// A petition that is a case of its own (件): not a repeat, not linked into another case.
pub fn is_case(record: &CaseRecord) -> bool {
    record.repeat_of.is_none() && record.linked_into.is_none()
}

pub fn split<'a>(records: impl IntoIterator<Item = &'a CaseRecord>, on: Date) -> StatusSplit {
    let mut split = StatusSplit::default();
    for record in records {
        split.cases += 1;
        match status(record, on) {
            Status::Done => split.done += 1,
            Status::InDeadline => {
                split.in_deadline += 1;
                if accepted(record, on) {
                    split.in_deadline_accepted += 1;
                }
            }
            Status::Overdue => split.overdue += 1,
        }
    }
    split
}

/// A duty judged on `on`: in time, late, overdue, or not due yet (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Punctuality {
    InTime,
    Late,
    Overdue,
}

fn punctuality(due: Date, done_on: Option<Date>, on: Date) -> Option<Punctuality> {
    match done_on.filter(|done| *done <= on) {
        Some(done) if done <= due => Some(Punctuality::InTime),
        Some(_) => Some(Punctuality::Late),
        None if due < on => Some(Punctuality::Overdue),
        None => None,
    }
}

fn rate(numerator: u64, denominator: u64, formula: &str) -> Rate {
    Rate {
        numerator,
        denominator,
        // Rounded half up, in integers: the same on every machine.
        basis_points: (denominator > 0).then(|| {
            u32::try_from((numerator * 20_000 / denominator).div_ceil(2)).unwrap_or(u32::MAX)
        }),
        formula: formula.to_owned(),
        ..Rate::default()
    }
}

fn punctual_rate(judged: impl Iterator<Item = Punctuality>, formula: &str) -> Rate {
    let (mut in_time, mut late, mut overdue) = (0, 0, 0);
    for punctuality in judged {
        match punctuality {
            Punctuality::InTime => in_time += 1,
            Punctuality::Late => late += 1,
            Punctuality::Overdue => overdue += 1,
        }
    }
    Rate {
        late,
        overdue,
        ..rate(in_time, in_time + late + overdue, formula)
    }
}

fn acceptance(duty: &Duty, on: Date) -> Option<Punctuality> {
    // A notice clock closed unmet (the objection upheld) was never this unit's to meet.
    if duty.closed && duty.met_on.is_none() {
        return None;
    }
    punctuality(duty.due, duty.met_on, on)
}

fn breakdown<'a>(
    cases: &[&'a CaseRecord],
    keys: impl Fn(&'a CaseRecord) -> Vec<String>,
    on: Date,
) -> Vec<Breakdown> {
    let mut groups: BTreeMap<String, Vec<&CaseRecord>> = BTreeMap::new();
    for case in cases {
        for key in keys(case) {
            groups.entry(key).or_default().push(case);
        }
    }
    let mut rows: Vec<Breakdown> = groups
        .into_iter()
        .map(|(key, cases)| Breakdown {
            key,
            status: Some(split(cases, on)),
        })
        .collect();
    // Largest first, then by key: the same order every time.
    rows.sort_by(|a, b| {
        let cases = |row: &Breakdown| row.status.as_ref().map_or(0, |s| s.cases);
        cases(b).cmp(&cases(a)).then_with(|| a.key.cmp(&b.key))
    });
    rows
}

/// The figures of the petitions registered in `period` that `filter` admits, on day `on`.
pub fn figures(
    records: &[CaseRecord],
    period: &Period,
    filter: &Filter,
    on: Date,
    formula: &Formula,
) -> Figures {
    let petitions: Vec<&CaseRecord> = records
        .iter()
        .filter(|r| r.registered_on.is_some_and(|day| period.contains(day)))
        .filter(|r| filter.admits(r))
        .collect();
    let cases: Vec<&CaseRecord> = petitions.iter().copied().filter(|r| is_case(r)).collect();
    let visits: Vec<&&CaseRecord> = petitions
        .iter()
        .filter(|r| r.channel == Some(Channel::Visit))
        .collect();
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let people = |rs: &mut dyn Iterator<Item = &&CaseRecord>| rs.map(|r| u64::from(r.people)).sum();

    let evaluation_window = Duration::days(formula.evaluation_window_days);
    let (mut evaluable, mut evaluated, mut satisfied) = (0, 0, 0);
    for case in &cases {
        let Some(served) = case.completed_on.filter(|served| *served <= on) else {
            continue;
        };
        let window_end = served.checked_add(evaluation_window).unwrap_or(Date::MAX);
        let in_window = case
            .evaluated_on
            .filter(|day| *day <= on && *day <= window_end)
            .and(case.evaluation);
        match in_window {
            Some(evaluation) => {
                evaluable += 1;
                evaluated += 1;
                let counts = evaluation == Evaluation::Satisfied
                    || (formula.basically_satisfied_counts
                        && evaluation == Evaluation::BasicallySatisfied);
                if counts {
                    satisfied += 1;
                }
            }
            // The window closed without an evaluation in it.
            None if window_end < on => evaluable += 1,
            None => {}
        }
    }

    let first_time: Vec<&&CaseRecord> = cases.iter().filter(|r| r.first_time).collect();
    let resolution_window = Duration::days(formula.resolution_window_days);
    let resolved = first_time
        .iter()
        .filter(|r| {
            r.done_on.is_some_and(|done| {
                done <= on
                    && !r.repeated_on.is_some_and(|again| {
                        again <= on
                            && again <= done.checked_add(resolution_window).unwrap_or(Date::MAX)
                    })
            })
        })
        .count();
    let repeats = petitions.iter().filter(|r| r.repeat_of.is_some()).count();

    Figures {
        period: period.to_string(),
        formula_version: formula.version.to_owned(),
        petitions: count(petitions.len()),
        status: Some(split(cases.iter().copied(), on)),
        person_times: people(&mut petitions.iter()),
        visit_batches: count(visits.len()),
        visit_person_times: people(&mut visits.iter().copied()),
        collective_visit_batches: count(visits.iter().filter(|r| r.collective).count()),
        by_source: breakdown(
            &cases,
            |r| r.sources.iter().map(|s| s.code().to_owned()).collect(),
            on,
        ),
        by_channel: breakdown(
            &cases,
            |r| r.channel.iter().map(|c| c.code().to_owned()).collect(),
            on,
        ),
        // A diverted case went to no unit's procedure: not a unit's case.
        by_unit: breakdown(
            &cases,
            |r| {
                r.unit_code
                    .iter()
                    .filter(|_| !r.diverted)
                    .cloned()
                    .collect()
            },
            on,
        ),
        by_category: breakdown(&cases, |r| r.matter_category.iter().cloned().collect(), on),
        by_territory: breakdown(&cases, |r| r.territory_code.iter().cloned().collect(), on),
        by_track: breakdown(
            &cases,
            |r| r.track.iter().map(|t| t.code().to_owned()).collect(),
            on,
        ),
        timely_acceptance: Some(punctual_rate(
            cases
                .iter()
                .filter_map(|r| r.acceptance.as_ref().and_then(|d| acceptance(d, on))),
            "受理（或不予受理）告知在期限内 / 应受理",
        )),
        on_time_reply: Some(punctual_rate(
            cases.iter().filter_map(|r| {
                r.handling_due
                    .and_then(|due| punctuality(due, r.replied_on, on))
            }),
            "按期答复 / (按期答复 + 逾期答复 + 逾期未答复)",
        )),
        on_time_completion: Some(punctual_rate(
            cases.iter().filter_map(|r| {
                r.handling_due
                    .and_then(|due| punctuality(due, r.completed_on, on))
            }),
            "按期办结 / 应办结",
        )),
        participation: Some(rate(
            evaluated,
            evaluable,
            &format!("送达后{}日内参评 / 可参评", formula.evaluation_window_days),
        )),
        satisfaction: Some(rate(satisfied, evaluated, formula.satisfaction_words())),
        repeat_rate: Some(rate(
            count(repeats),
            count(petitions.len()),
            "重复信访件次 / 信访件次",
        )),
        first_time_resolution: Some(rate(
            count(resolved),
            count(first_time.len()),
            &format!(
                "初信初访办结且{}日内未重复 / 初信初访",
                formula.resolution_window_days
            ),
        )),
        skip_level_petitions: count(petitions.iter().filter(|r| r.skip_level).count()),
        collective_petitions: count(petitions.iter().filter(|r| r.collective).count()),
        ..Figures::default()
    }
}

#[cfg(test)]
#[path = "figures_tests.rs"]
mod tests;
