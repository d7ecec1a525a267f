//! What the figures need of one case, folded from its facts. Plain: facts in, a record out,
//! the same whatever order the streams delivered them in, so the live service, a rebuild and
//! an as-of recomputation agree.

use time::{Date, OffsetDateTime};
use uuid::Uuid;
use xinfang_platform::auth::lead_path;
use xinfang_platform::wire::{china_date, from_calendar_date};
use xinfang_proto::supervision::v1::LetterKind;
use xinfang_proto::v1::{CaseStage, Deadline, DeadlineKind, DeadlineState, Evaluation};
use xinfang_proto::vocabulary::{
    Channel, EscalatedTo, LegalTrack, SourceLevel, UpstreamDisposition,
};

use crate::facts::{Fact, Stored};

/// A duty's clock as the newest timeline of the case shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duty {
    pub due: Date,
    pub met_on: Option<Date>,
    /// Stopped without being met (the objection upheld, the case linked elsewhere).
    pub closed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseRecord {
    pub case_id: Uuid,
    pub case_number: String,
    /// The day (China time) the petition was registered; `None` until that event is in.
    pub registered_on: Option<Date>,
    pub channel: Option<Channel>,
    /// Every source it came by, sorted: a case several bureaus sent has each.
    pub sources: Vec<SourceLevel>,
    pub territory_code: Option<String>,
    pub matter_category: Option<String>,
    /// 人次 of this petition: at least one.
    pub people: u32,
    pub collective: bool,
    pub skip_level: bool,
    pub first_time: bool,
    /// The case this petition repeats (重复信访).
    pub repeat_of: Option<Uuid>,
    /// The case this petition was linked into: no case of its own.
    pub linked_into: Option<Uuid>,
    pub escalated_to: Option<EscalatedTo>,
    /// The lead unit of the newest routing decision, and the units above it, top first.
    pub unit_code: Option<String>,
    pub lead_path: Vec<String>,
    pub track: Option<LegalTrack>,
    /// Units a routing was taken from because the bureau upheld their objection (错转).
    pub wrongly_routed_to: Vec<String>,
    /// Diverted to a statutory channel (导入法定途径): no unit's procedure, not a forwarded case.
    pub diverted: bool,
    /// 交办: assigned by routing or by a higher bureau.
    pub assigned: bool,
    /// 督办: the bureau issued a supervision letter about it.
    pub supervised: bool,
    pub timeline_opened: bool,
    /// The day the case was done (办结), if it is.
    pub done_on: Option<Date>,
    /// The earliest due day of a duty not done; overdue once that day is past.
    pub open_duty_due: Option<Date>,
    /// The notice of receipt: the unit's acceptance decision (受理 or not), Art 23.
    pub acceptance: Option<Duty>,
    /// The handling clock (Art 32) and the days its reply was issued and served.
    pub handling_due: Option<Date>,
    /// The day the unit accepted it (受理), whether or not a notice was owed.
    pub accepted_on: Option<Date>,
    pub replied_on: Option<Date>,
    pub completed_on: Option<Date>,
    pub evaluation: Option<Evaluation>,
    pub evaluated_on: Option<Date>,
    /// The first repeat petition of the case.
    pub repeated_on: Option<Date>,
}

/// Duties whose due day can pass with the duty undone; windows (objection, review
/// requests) only lapse. A letter's reply is the unit's answer to the bureau, not the
/// petitioner's matter, and its reply is recorded without an event: supervision follows it
/// (its overdue list), the case's figures do not.
fn is_duty(kind: DeadlineKind) -> bool {
    !matches!(
        kind,
        DeadlineKind::Unspecified
            | DeadlineKind::Objection
            | DeadlineKind::ReviewRequest
            | DeadlineKind::ReReviewRequest
            | DeadlineKind::LetterReply
    )
}

fn is_done(stage: CaseStage) -> bool {
    matches!(
        stage,
        CaseStage::Refused
            | CaseStage::Completed
            | CaseStage::UnderReview
            | CaseStage::ReviewDecided
            | CaseStage::Reviewed
            | CaseStage::UnderReReview
            | CaseStage::ReReviewDecided
            | CaseStage::Final
            | CaseStage::Diverted
            | CaseStage::NotAcceptedFinal
    )
}

fn day(date: Option<&xinfang_proto::v1::CalendarDate>) -> Option<Date> {
    date.and_then(|date| from_calendar_date(date).ok())
}

fn duty(deadline: &Deadline) -> Option<Duty> {
    Some(Duty {
        due: day(deadline.due.as_ref())?,
        met_on: day(deadline.met_on.as_ref()),
        closed: deadline.state == DeadlineState::Closed as i32
            || deadline.state == DeadlineState::Lapsed as i32,
    })
}

/// The newest clock of a kind (a re-routed case opens its clocks again).
fn newest(deadlines: &[Deadline], kind: DeadlineKind) -> Option<&Deadline> {
    deadlines
        .iter()
        .filter(|deadline| deadline.kind == kind as i32)
        .max_by_key(|deadline| day(deadline.start.as_ref()))
}

/// The newest timeline a case's supervision events showed: the deadlines and the stage.
struct Timeline<'a> {
    at: (OffsetDateTime, Uuid),
    deadlines: &'a [Deadline],
    stage: Option<CaseStage>,
}

/// Folds a case's facts (its own, and those of other cases that name it) into its record.
/// `None` when none of them is about the case itself.
pub fn fold(case_id: Uuid, facts: &[Stored]) -> Option<CaseRecord> {
    let mut facts: Vec<&Stored> = facts.iter().collect();
    facts.sort_by_key(|stored| (stored.occurred_at, stored.event_id));
    let mut record = CaseRecord {
        case_id,
        people: 1,
        ..CaseRecord::default()
    };
    let mut known = false;
    let mut routing_revision = 0;
    let mut correction_revision = 0;
    let mut timeline: Option<Timeline> = None;
    let mut moved: Vec<((OffsetDateTime, Uuid), &Deadline)> = Vec::new();
    let mut diverted_on: Option<Date> = None;
    let mut repeats: Vec<Date> = Vec::new();
    let mut see = |at: (OffsetDateTime, Uuid), deadlines, stage| {
        if timeline.as_ref().is_none_or(|newest| newest.at < at) {
            timeline = Some(Timeline {
                at,
                deadlines,
                stage,
            });
        }
    };
    for stored in &facts {
        let at = (stored.occurred_at, stored.event_id);
        match &stored.fact {
            Fact::Registered(e) if Uuid::parse_str(&e.case_id).ok() != Some(case_id) => {
                repeats.push(china_date(stored.occurred_at));
            }
            Fact::Registered(e) => {
                known = true;
                record.case_number.clone_from(&e.case_number);
                record.registered_on = e
                    .registered_at
                    .as_ref()
                    .and_then(|at| xinfang_platform::wire::from_timestamp(Some(at)).ok())
                    .map(china_date);
                record.channel = Channel::from_proto(e.channel).ok();
                let source = e.source.clone().unwrap_or_default();
                record
                    .sources
                    .extend(SourceLevel::from_proto(source.level).ok());
                if UpstreamDisposition::from_proto(source.disposition)
                    == Ok(UpstreamDisposition::Assigned)
                {
                    record.assigned = true;
                }
                if correction_revision == 0 {
                    record.territory_code = Some(e.territory_code.clone());
                    record.matter_category = Some(e.matter_category.clone());
                }
                record.people = e.people_count.max(1);
                record.collective = e.collective || !e.collective_matter_case_id.is_empty();
                record.skip_level = e.skip_level;
                record.first_time = e.first_time;
                record.repeat_of = Uuid::parse_str(&e.repeat_of_case_id).ok();
                record.escalated_to = EscalatedTo::from_proto(e.escalated_to).ok();
                // Registered and not accepted: the matter is final after re-review (Art 36).
                if !e.repeats_final_case.is_empty() {
                    record.done_on = record.registered_on;
                }
            }
            Fact::Corrected(e) => {
                let revision = i64::from(e.revision);
                if revision > correction_revision {
                    correction_revision = revision;
                    record.territory_code = Some(e.territory_code.clone());
                    record.matter_category = Some(e.matter_category.clone());
                }
            }
            Fact::Linked(e) if Uuid::parse_str(&e.case_id).ok() == Some(case_id) => {
                let source = e.source.clone().unwrap_or_default();
                record
                    .sources
                    .extend(SourceLevel::from_proto(source.level).ok());
                if UpstreamDisposition::from_proto(source.disposition)
                    == Ok(UpstreamDisposition::Assigned)
                {
                    record.assigned = true;
                }
            }
            Fact::Linked(e) => record.linked_into = Uuid::parse_str(&e.case_id).ok(),
            Fact::Routed(e) => {
                if e.after_objection && !e.previous_unit_code.is_empty() {
                    record.wrongly_routed_to.push(e.previous_unit_code.clone());
                }
                let revision = i64::from(e.revision.max(1));
                if revision > routing_revision {
                    routing_revision = revision;
                    record.unit_code = Some(e.unit_code.clone());
                    record.lead_path = lead_path(&e.unit_path, &e.unit_code).to_vec();
                    record.track = LegalTrack::from_proto(e.track).ok();
                    // Diverted to a statutory channel with the guidance notice: closed
                    // that day, no unit's procedure follows. Decisions from before they had
                    // revisions said so by their track alone (as supervision reads them).
                    let diverted = e.disposition
                        == xinfang_proto::v1::RoutingDisposition::Divert as i32
                        || (e.revision == 0
                            && e.track == xinfang_proto::v1::LegalTrack::StatutoryChannel as i32);
                    let routed_on = e
                        .routed_at
                        .as_ref()
                        .and_then(|at| xinfang_platform::wire::from_timestamp(Some(at)).ok())
                        .map_or_else(|| china_date(stored.occurred_at), china_date);
                    diverted_on = diverted.then_some(routed_on);
                }
                if e.disposition == xinfang_proto::v1::RoutingDisposition::Assign as i32 {
                    record.assigned = true;
                }
            }
            Fact::Opened(e) => {
                record.timeline_opened = true;
                if routing_revision == 0 {
                    record.unit_code = Some(e.unit_code.clone());
                    record.lead_path = lead_path(&e.unit_path, &e.unit_code).to_vec();
                }
                see(at, &e.deadlines, None);
            }
            Fact::Advanced(e) => {
                let stage = CaseStage::try_from(e.stage).ok();
                let on = day(e.occurred_on.as_ref());
                match stage {
                    Some(CaseStage::Accepted) if record.accepted_on.is_none() => {
                        record.accepted_on = on;
                    }
                    Some(CaseStage::Replied) if record.replied_on.is_none() => {
                        record.replied_on = on;
                    }
                    Some(CaseStage::Completed) if record.completed_on.is_none() => {
                        record.completed_on = on;
                    }
                    _ => {}
                }
                // The first evaluation is the one of the reply served; a later one (after a
                // review) does not replace it.
                if let Ok(
                    evaluation @ (Evaluation::Satisfied
                    | Evaluation::BasicallySatisfied
                    | Evaluation::Dissatisfied),
                ) = Evaluation::try_from(e.evaluation)
                    && record.evaluation.is_none()
                {
                    record.evaluation = Some(evaluation);
                    record.evaluated_on = on;
                }
                if stage.is_some_and(is_done) && record.done_on.is_none() {
                    record.done_on = on;
                }
                see(at, &e.deadlines, stage);
            }
            Fact::Letter(e) => {
                let letter = e.letter.clone().unwrap_or_default();
                if letter.kind == LetterKind::Supervision as i32 && !letter.from_upstream {
                    record.supervised = true;
                }
            }
            Fact::Moved(e) => moved.extend(e.deadline.as_ref().map(|deadline| (at, deadline))),
            Fact::LeaderCase(_)
            | Fact::Watch(_)
            | Fact::Inspection(_)
            | Fact::Reception(_)
            | Fact::Directory(_) => {}
        }
    }
    if !known && record.linked_into.is_none() {
        return None;
    }
    record.sources.sort_by_key(|level| level.code());
    record.sources.dedup();
    if diverted_on.is_some() {
        record.done_on = diverted_on;
        record.diverted = true;
    }
    if let Some(timeline) = timeline {
        // A due day moved by the calendar after the newest timeline replaces its clock.
        let mut deadlines = timeline.deadlines.to_vec();
        // The clock it moved is the one of its kind, reference and start: a re-routed case
        // keeps its first unit's closed clocks of the same kind beside the new ones.
        for (_, moved) in moved.iter().filter(|(at, _)| *at > timeline.at) {
            if let Some(clock) = deadlines.iter_mut().find(|clock| {
                clock.kind == moved.kind
                    && clock.reference == moved.reference
                    && clock.start == moved.start
            }) {
                *clock = (*moved).clone();
            }
        }
        let deadlines = deadlines.as_slice();
        record.open_duty_due = deadlines
            .iter()
            .filter(|deadline| DeadlineKind::try_from(deadline.kind).is_ok_and(is_duty))
            .filter_map(duty)
            .filter(|duty| duty.met_on.is_none() && !duty.closed)
            .map(|duty| duty.due)
            .min();
        record.acceptance = newest(deadlines, DeadlineKind::NoticeOfReceipt).and_then(duty);
        record.handling_due = newest(deadlines, DeadlineKind::Handling)
            .and_then(duty)
            .map(|duty| duty.due);
        // The newest stage is not a done one (a case linked into another after it was
        // opened): not done on its own.
        if timeline.stage.is_some_and(|stage| !is_done(stage)) && diverted_on.is_none() {
            record.done_on = None;
        }
    }
    // 初访转重访: any repeat from the case's registration on.
    record.repeated_on = repeats.iter().copied().min();
    Some(record)
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
