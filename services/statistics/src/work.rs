//! The bureau's work in a period, from its facts (DOMAIN.md, "The seed's own figures"):
//! assigned and supervised cases, the watch list, leaders' receptions and owned cases,
//! inspections, letters and petitions to higher levels. Plain: facts in, figures out.

use std::collections::{BTreeMap, HashMap};

use time::Date;
use xinfang_platform::wire::{china_date, from_calendar_date, from_timestamp};
use xinfang_proto::statistics::v1::{Count, Escalations, LeaderCases, WorkFigures};
use xinfang_proto::supervision::v1::{
    LeaderCase, LeaderLevel, LeaderOutcome, LetterKind, ReceptionKind, WatchEntry, WatchKind,
};
use xinfang_proto::vocabulary::EscalatedTo;

use crate::facts::{Fact, Stored};
use crate::figures::{is_case, split};
use crate::period::Period;
use crate::record::CaseRecord;

fn letter_kind(kind: i32) -> Option<&'static str> {
    match LetterKind::try_from(kind).ok()? {
        LetterKind::Assignment => Some("assignment"),
        LetterKind::Reminder => Some("reminder"),
        LetterKind::Warning => Some("warning"),
        LetterKind::Supervision => Some("supervision"),
        LetterKind::Unspecified => None,
    }
}

fn day_of(at: Option<&prost_types::Timestamp>) -> Option<Date> {
    at.and_then(|at| from_timestamp(Some(at)).ok())
        .map(china_date)
}

/// The newest of each key: a leader's case, a watch-list entry (facts are in time order).
fn newest<T: Clone>(items: impl Iterator<Item = (String, T)>) -> BTreeMap<String, T> {
    items.collect()
}

fn leader_cases(
    cases: &BTreeMap<String, LeaderCase>,
    level: LeaderLevel,
    period: &Period,
    on: Date,
) -> LeaderCases {
    let mut figures = LeaderCases::default();
    let last = period.last.min(on);
    for case in cases.values().filter(|c| c.level == level as i32) {
        let assigned = case
            .assigned_on
            .as_ref()
            .and_then(|d| from_calendar_date(d).ok());
        let outcome_on = case
            .outcome_on
            .as_ref()
            .and_then(|d| from_calendar_date(d).ok());
        let ended_before = outcome_on.is_some_and(|ended| ended < period.first);
        if assigned.is_none_or(|assigned| assigned > last) || ended_before {
            continue;
        }
        figures.owned += 1;
        let resolved = case.outcome == LeaderOutcome::Resolved as i32
            && outcome_on.is_some_and(|ended| ended <= last);
        if resolved {
            figures.resolved += 1;
        }
    }
    figures
}

/// `records`: the cases registered in the period; `facts`: the bureau's own facts and the
/// letters and leaders' cases, up to the as-of moment, in time order.
pub fn work_figures(
    records: &[CaseRecord],
    facts: &[Stored],
    period: &Period,
    on: Date,
) -> WorkFigures {
    let in_period: Vec<&CaseRecord> = records
        .iter()
        .filter(|r| r.registered_on.is_some_and(|day| period.contains(day)))
        .collect();
    let mut figures = WorkFigures {
        period: period.to_string(),
        assigned_or_supervised: Some(split(
            in_period
                .iter()
                .copied()
                .filter(|r| is_case(r) && (r.assigned || r.supervised)),
            on,
        )),
        ..WorkFigures::default()
    };
    let mut escalations: HashMap<EscalatedTo, Escalations> = HashMap::new();
    for petition in &in_period {
        if let Some(to) = petition.escalated_to {
            let counted = escalations.entry(to).or_default();
            counted.batches += 1;
            counted.person_times += u64::from(petition.people);
        }
    }
    figures.to_beijing = escalations.remove(&EscalatedTo::Beijing);
    figures.to_province = escalations.remove(&EscalatedTo::Province);
    figures.to_prefecture = escalations.remove(&EscalatedTo::Prefecture);

    let watch: BTreeMap<String, WatchEntry> = newest(facts.iter().filter_map(|s| match &s.fact {
        Fact::Watch(e) => e.entry.clone().map(|entry| (entry.id.clone(), entry)),
        _ => None,
    }));
    let last = period.last.min(on);
    for entry in watch.values() {
        let on_list = day_of(entry.added_at.as_ref()).is_some_and(|added| added <= last)
            && day_of(entry.removed_at.as_ref()).is_none_or(|removed| removed > last);
        if !on_list {
            continue;
        }
        match WatchKind::try_from(entry.kind) {
            Ok(WatchKind::KeyPerson) => figures.key_persons += 1,
            Ok(WatchKind::KeyGroup) => figures.key_groups += 1,
            _ => continue,
        }
        if !entry.leader.trim().is_empty() {
            figures.watch_entries_owned_by_leaders += 1;
        }
    }

    let leader_cases_now: BTreeMap<String, LeaderCase> =
        newest(facts.iter().filter_map(|s| match &s.fact {
            Fact::LeaderCase(e) => e.leader_case.clone().map(|c| (c.case_id.clone(), c)),
            _ => None,
        }));
    figures.province_leader_cases = Some(leader_cases(
        &leader_cases_now,
        LeaderLevel::Province,
        period,
        on,
    ));
    figures.prefecture_leader_cases = Some(leader_cases(
        &leader_cases_now,
        LeaderLevel::Prefecture,
        period,
        on,
    ));
    figures.city_leader_cases = Some(leader_cases(
        &leader_cases_now,
        LeaderLevel::City,
        period,
        on,
    ));
    figures.town_leader_cases = Some(leader_cases(
        &leader_cases_now,
        LeaderLevel::Town,
        period,
        on,
    ));

    let mut letters: BTreeMap<String, &'static str> = BTreeMap::new();
    let mut inspections: BTreeMap<String, Date> = BTreeMap::new();
    let mut receptions: BTreeMap<String, (u64, bool)> = BTreeMap::new();
    for stored in facts {
        match &stored.fact {
            Fact::Letter(e) => {
                let letter = e.letter.clone().unwrap_or_default();
                let issued = day_of(letter.issued_at.as_ref());
                if let (Some(kind), false, true) = (
                    letter_kind(letter.kind),
                    letter.from_upstream,
                    issued.is_some_and(|day| period.contains(day)),
                ) {
                    letters.insert(letter.number, kind);
                }
            }
            Fact::Inspection(e) => {
                let inspection = e.inspection.clone().unwrap_or_default();
                if let Some(day) = inspection
                    .inspected_on
                    .as_ref()
                    .and_then(|d| from_calendar_date(d).ok())
                    .filter(|day| period.contains(*day))
                {
                    inspections.insert(inspection.id, day);
                }
            }
            // The city's leaders' sessions: what the summary states (市级领导接访下访).
            Fact::Reception(e)
                if e.level == LeaderLevel::City as i32
                    && day_of(e.held_at.as_ref()).is_some_and(|day| period.contains(day)) =>
            {
                let visit_down_by_principal =
                    e.principal && e.kind == ReceptionKind::VisitDown as i32;
                receptions.insert(
                    e.reception_id.clone(),
                    (u64::from(e.people_received), visit_down_by_principal),
                );
            }
            _ => {}
        }
    }
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for kind in letters.values() {
        *by_kind.entry(kind).or_default() += 1;
    }
    figures.letters_by_kind = by_kind
        .into_iter()
        .map(|(key, cases)| Count {
            key: key.to_owned(),
            cases,
        })
        .collect();
    figures.inspections = u64::try_from(inspections.len()).unwrap_or(u64::MAX);
    figures.reception_sessions = u64::try_from(receptions.len()).unwrap_or(u64::MAX);
    figures.reception_person_times = receptions.values().map(|(people, _)| people).sum();
    figures.visits_down_by_principal_leaders = u64::try_from(
        receptions
            .values()
            .filter(|(_, principal)| *principal)
            .count(),
    )
    .unwrap_or(u64::MAX);
    figures
}
