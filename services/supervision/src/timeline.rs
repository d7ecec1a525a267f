//! How a case's timeline begins (DOMAIN.md, "The procedure"): the forward clock opens at the
//! bureau's receipt, when the case is registered, and is met when routing forwards, assigns
//! or diverts it; a case held for triage keeps it running. The two events come from two
//! streams and may arrive in either order. Pure: the record and the facts in, the record
//! changed in place.

use time::{Date, OffsetDateTime};
use uuid::Uuid;
pub use xinfang_proto::vocabulary::{
    DeadlineKind, Disposition, LegalTrack, UNCLASSIFIED, UnitKind,
};

use crate::calendar::HolidayCalendar;
use crate::case_record::CaseRecord;
use crate::deadlines::{DeadlineRule, FORWARD, start_day};
use crate::lifecycle::Stage;
use crate::store::case;

/// What intake's registration tells supervision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub case_number: String,
    pub received_at: OffsetDateTime,
    pub anonymous: bool,
    pub address_unknown: bool,
    /// A higher bureau's case number and the deadline it set.
    pub upstream: Option<(String, Date)>,
    /// The case whose matter this repeats, final after re-review (Art 36).
    pub repeats_final_case: Option<String>,
}

/// What routing decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    pub case_number: String,
    pub received_at: OffsetDateTime,
    pub anonymous: bool,
    pub unit_code: String,
    pub unit_path: String,
    pub unit_kind: Option<UnitKind>,
    pub disposition: Disposition,
    /// `None` while no category classified the case (held for triage).
    pub track: Option<LegalTrack>,
    pub routed_at: OffsetDateTime,
    pub upstream_deadline: Option<Date>,
    /// Which decision of the case this is (1 for the first).
    pub revision: i32,
    /// For an assignment: the day the result is due.
    pub assignment_deadline: Option<Date>,
    /// Diverted to a statutory channel (the disposition; in events from before routing
    /// had one, a statutory-channel track).
    pub diverted: bool,
}

/// A case supervision had not heard of: registered, its forward clock running from the
/// bureau's receipt.
pub fn new_case(
    case_id: Uuid,
    case_number: &str,
    received_at: OffsetDateTime,
    anonymous: bool,
    now: OffsetDateTime,
    calendar: &HolidayCalendar,
) -> CaseRecord {
    let mut record = CaseRecord {
        row: case::Model {
            case_id,
            case_number: case_number.to_owned(),
            received_at,
            anonymous,
            address_unknown: false,
            unit_code: String::new(),
            unit_path: String::new(),
            unit_kind: String::new(),
            disposition: String::new(),
            track: UNCLASSIFIED.to_owned(),
            routed_at: None,
            opened_at: now,
            stage: String::new(),
            stage_on: None,
            stage_since: None,
            extended_by: None,
            hearing_since: None,
            evaluation: String::new(),
            follow_up: false,
            routing_revision: 0,
            updated_at: now,
            linked_into_case_number: None,
        },
        stage: Stage::Registered,
        ledger: Default::default(),
        new: true,
    };
    record.ledger.open_entry(
        DeadlineKind::Forward,
        String::new(),
        start_day(received_at),
        FORWARD,
        calendar,
    );
    stamp_start(&mut record, "registered");
    record
}

/// Records what registration says (routing's decision may have come first).
pub fn register(record: &mut CaseRecord, registration: &Registration, calendar: &HolidayCalendar) {
    record.row.address_unknown = registration.address_unknown;
    record.row.anonymous |= registration.anonymous;
    // A petition linked before its registration arrived answers to its bureau through the
    // case it went into.
    if let Some((reference, due)) = &registration.upstream
        && record.stage != Stage::Linked
    {
        let start = start_day(record.row.received_at);
        answer_to_upstream(record, reference, start, *due, calendar);
    }
    // Not accepted again (Art 36): nothing is to be forwarded, so the forward clock stops
    // without being missed, whether or not routing's decision came first.
    if registration.repeats_final_case.is_some()
        && matches!(record.stage, Stage::Registered | Stage::HeldForTriage)
    {
        let registered_on = start_day(registration.received_at);
        if let Some(forward) = record.ledger.open_mut(DeadlineKind::Forward) {
            forward.closed_on = Some(registered_on);
        }
        record.stage = Stage::NotAcceptedFinal;
    }
}

/// Records where routing sent the case, following only a newer revision of its decision.
/// Returns whether the case moved (false for a decision recorded already, or older).
pub fn route(record: &mut CaseRecord, routing: &Routing, calendar: &HolidayCalendar) -> bool {
    if routing.revision <= record.row.routing_revision {
        return false;
    }
    let restarts = moves(record, routing);
    let routed_on = start_day(routing.routed_at);
    let row = &mut record.row;
    row.routing_revision = routing.revision;
    row.unit_code = routing.unit_code.clone();
    row.unit_path = routing.unit_path.clone();
    row.unit_kind = routing
        .unit_kind
        .map(UnitKind::code)
        .unwrap_or_default()
        .to_owned();
    row.disposition = routing.disposition.code().to_owned();
    row.track = routing
        .track
        .map_or(UNCLASSIFIED, LegalTrack::code)
        .to_owned();
    row.routed_at = Some(routing.routed_at);
    row.anonymous |= routing.anonymous;
    if let Some(due) = routing.upstream_deadline
        && record.stage != Stage::Linked
    {
        let start = start_day(record.row.received_at);
        answer_to_upstream(record, "", start, due, calendar);
    }
    // A repeat of a final matter goes to no unit: where routing put it is recorded, and it
    // stays not accepted. A case a unit already accepted keeps its stage and clocks: who
    // may see it follows the decision, as in every other service, and the objection
    // procedure (routing's) is where such a move is decided.
    if !restarts {
        if !matches!(record.stage, Stage::NotAcceptedFinal | Stage::Linked)
            && routing.unit_code != record.row.unit_code
        {
            tracing::warn!(case = %record.row.case_number, revision = routing.revision, stage = record.stage.name(), "re-routed after acceptance: the unit changes, the procedure does not restart");
        }
        return true;
    }
    // Re-routed before the unit accepted: the first unit's clocks stop (neither met nor
    // missed), and the new unit's open at its own sign-for.
    for clock in [
        DeadlineKind::NoticeOfReceipt,
        DeadlineKind::Objection,
        DeadlineKind::Assignment,
    ] {
        while let Some(open) = record.ledger.open_mut(clock) {
            open.closed_on = Some(routed_on);
        }
    }
    if routing.disposition == Disposition::Triage {
        record.stage = Stage::HeldForTriage;
        return true;
    }
    // Forwarded, assigned or diverted: the bureau's duty is done.
    if let Some(forward) = record.ledger.open_mut(DeadlineKind::Forward) {
        forward.met_on = Some(routed_on);
    }
    // A matter for a statutory channel is diverted with a guidance notice and closed as
    // diverted: no unit signs for it, no handling clock runs.
    record.stage = if routing.diverted {
        Stage::Diverted
    } else {
        Stage::AwaitingSignFor
    };
    true
}

/// Whether a routing decision restarts the case's procedure at its new unit: a newer
/// revision than the one it follows, while no unit has accepted it.
pub fn moves(record: &CaseRecord, routing: &Routing) -> bool {
    if routing.revision <= record.row.routing_revision {
        return false;
    }
    // A new revision at the unit that has the case, as it has it (a clerk classified it
    // anew there): the procedure goes on.
    if routing.unit_code == record.row.unit_code
        && routing.disposition.code() == record.row.disposition
        && record.stage.is_at_a_unit()
    {
        return false;
    }
    match record.stage {
        // Not accepted again (Art 36): where routing put it is recorded, nothing restarts.
        Stage::NotAcceptedFinal | Stage::Linked => false,
        Stage::Registered
        | Stage::HeldForTriage
        | Stage::Diverted
        | Stage::AwaitingSignFor
        | Stage::SignedFor { .. }
        | Stage::ObjectionPending { .. }
        | Stage::Returned { .. } => true,
        _ => false,
    }
}

/// A higher bureau's deadline, kept as set; one per higher bureau. Routing's event knows the
/// day but not the bureau's case number, so a deadline without one is completed by the
/// registration that names it.
pub fn answer_to_upstream(
    record: &mut CaseRecord,
    reference: &str,
    start: Date,
    due: Date,
    calendar: &HolidayCalendar,
) {
    let entries = &mut record.ledger.entries;
    let same = entries.iter_mut().find(|entry| {
        entry.clock == DeadlineKind::Upstream
            && entry.due == due
            && (entry.reference == reference || entry.reference.is_empty() || reference.is_empty())
    });
    if let Some(entry) = same {
        if entry.reference.is_empty() {
            entry.reference = reference.to_owned();
        }
        return;
    }
    record.ledger.open_entry(
        DeadlineKind::Upstream,
        reference.to_owned(),
        start,
        DeadlineRule::set_day(due),
        calendar,
    );
    stamp_start(record, "registered");
}

fn stamp_start(record: &mut CaseRecord, cause: &str) {
    for entry in &mut record.ledger.entries {
        if entry.start_event.is_empty() {
            entry.start_event = cause.to_owned();
        }
    }
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
