//! A case as the API and the events show it: its stage, its deadlines with where each
//! stands today, its history.

use time::Date;
use xinfang_platform::wire;
use xinfang_proto::v1 as proto;

use crate::case_record::CaseRecord;
use crate::ledger::{ClockState, DeadlineLedger, LedgerEntry};
use crate::store::{case_upstream, step};
use crate::timeline::{Disposition, LegalTrack};
use xinfang_proto::vocabulary::{SourceLevel, UpstreamDisposition};

pub fn deadlines(ledger: &DeadlineLedger, today: Date) -> Vec<proto::Deadline> {
    ledger
        .entries
        .iter()
        .map(|entry| deadline(entry, today))
        .collect()
}

pub fn deadline(entry: &LedgerEntry, today: Date) -> proto::Deadline {
    let state = match entry.state(today) {
        ClockState::Running { .. } => proto::DeadlineState::Running,
        ClockState::Paused => proto::DeadlineState::Paused,
        ClockState::Overdue { .. } => proto::DeadlineState::Overdue,
        ClockState::Lapsed { .. } => proto::DeadlineState::Lapsed,
        ClockState::MetInTime => proto::DeadlineState::MetInTime,
        ClockState::MetLate { .. } => proto::DeadlineState::MetLate,
        ClockState::Closed => proto::DeadlineState::Closed,
    };
    let extension = entry.extension.as_ref();
    proto::Deadline {
        kind: entry.clock.to_proto().into(),
        start: Some(wire::calendar_date(entry.start)),
        due: Some(wire::calendar_date(entry.due)),
        provisional: entry.provisional,
        legal_basis: entry.basis.clone(),
        start_event: entry.start_event.clone(),
        rule: entry.rule.describe(),
        reference: entry.reference.clone(),
        extended_by_days: u32::from(entry.extended_by),
        paused_days: u32::from(entry.paused_days),
        calendar_version: entry.calendar_version.clone(),
        state: state.into(),
        met_on: entry.met_on.map(wire::calendar_date),
        closed_on: entry.closed_on.map(wire::calendar_date),
        extension_approved_by: extension.map(|e| e.approved_by.clone()).unwrap_or_default(),
        extension_reason: extension.map(|e| e.reason.clone()).unwrap_or_default(),
        extension_petitioner_told_on: extension.map(|e| wire::calendar_date(e.petitioner_told_on)),
    }
}

pub fn timeline(case: &CaseRecord, steps: &[step::Model], today: Date) -> proto::CaseTimeline {
    let row = &case.row;
    proto::CaseTimeline {
        case_id: row.case_id.to_string(),
        case_number: row.case_number.clone(),
        unit_code: row.unit_code.clone(),
        disposition: Disposition::from_code(&row.disposition)
            .map(|d| d.to_proto().into())
            .unwrap_or_default(),
        // Unclassified (held for triage) is the unset value.
        track: LegalTrack::from_code(&row.track)
            .map(|t| t.to_proto().into())
            .unwrap_or_default(),
        received_at: Some(wire::timestamp(row.received_at)),
        routed_at: row.routed_at.map(wire::timestamp),
        opened_at: Some(wire::timestamp(row.opened_at)),
        deadlines: deadlines(&case.ledger, today),
        unit_path: case.unit_path(),
        stage: case.stage.to_proto().into(),
        steps: steps.iter().map(step_view).collect(),
        leader: String::new(),
        follow_up: row.follow_up,
        routing_revision: u32::try_from(row.routing_revision).unwrap_or_default(),
        // One case's view fills them in (`upstreams`); lists leave them out.
        upstreams: Vec::new(),
        linked_into_case_number: row.linked_into_case_number.clone().unwrap_or_default(),
    }
}

/// The higher bureaus a case answers to, as its timeline shows them.
pub fn upstreams(rows: &[case_upstream::Model]) -> Vec<proto::UpstreamObligation> {
    rows.iter()
        .map(|row| proto::UpstreamObligation {
            level: SourceLevel::from_code(&row.source_level)
                .map(|level| level.to_proto().into())
                .unwrap_or_default(),
            reference: row.upstream_reference.clone(),
            disposition: UpstreamDisposition::from_code(&row.disposition)
                .map(|disposition| disposition.to_proto().into())
                .unwrap_or_default(),
            deadline: row.due_day.map(wire::calendar_date),
            via_case_number: row.via_case_number.clone(),
            reported_on: row.reported_on.map(wire::calendar_date),
        })
        .collect()
}

fn step_view(step: &step::Model) -> proto::CaseStep {
    proto::CaseStep {
        action: step.action.clone(),
        occurred_on: Some(wire::calendar_date(step.occurred_on)),
        recorded_at: Some(wire::timestamp(step.recorded_at)),
        actor: step.actor.clone(),
        stage_after: crate::case_record::stage_proto_of_code(&step.stage_after).into(),
        details: step.details.clone(),
    }
}
