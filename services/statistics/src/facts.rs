//! Statistics' facts: every event it counts, kept as it came and keyed by its event id, so
//! nothing a case went through is overwritten (its first unit, its earlier deadlines). The
//! case records and every figure are folded from them; `decode` reads a stored payload back.

use prost::Message;
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_proto::Name;
use xinfang_proto::intake::v1::{PetitionCorrected, PetitionRegistered, UpstreamLinked};
use xinfang_proto::routing::v1::{DirectoryPublished, PetitionRouted};
use xinfang_proto::supervision::v1::{
    CaseAdvanced, DeadlineMoved, InspectionRecorded, LeaderCaseChanged, LetterIssued,
    ReceptionRecorded, TimelineOpened, WatchListChanged,
};

/// One event statistics counts, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    Registered(PetitionRegistered),
    Corrected(PetitionCorrected),
    Linked(UpstreamLinked),
    Routed(PetitionRouted),
    Opened(TimelineOpened),
    Advanced(CaseAdvanced),
    Moved(DeadlineMoved),
    Letter(LetterIssued),
    LeaderCase(LeaderCaseChanged),
    Watch(WatchListChanged),
    Inspection(InspectionRecorded),
    Reception(ReceptionRecorded),
    /// The units routing routes to, with their names: what a report names them by.
    Directory(DirectoryPublished),
}

/// A fact with when it happened (the event's time) and its id: the order a fold reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub event_id: Uuid,
    pub occurred_at: OffsetDateTime,
    pub fact: Fact,
}

fn read<M: Message + Default + Name>(payload: &[u8]) -> Result<M, String> {
    M::decode(payload).map_err(|error| format!("undecodable {}: {error}", M::full_name()))
}

/// Reads a payload by its event type (`ce-type`).
pub fn decode(event_type: &str, payload: &[u8]) -> Result<Fact, String> {
    Ok(match event_type {
        t if t == PetitionRegistered::full_name() => Fact::Registered(read(payload)?),
        t if t == PetitionCorrected::full_name() => Fact::Corrected(read(payload)?),
        t if t == UpstreamLinked::full_name() => Fact::Linked(read(payload)?),
        t if t == PetitionRouted::full_name() => Fact::Routed(read(payload)?),
        t if t == TimelineOpened::full_name() => Fact::Opened(read(payload)?),
        t if t == CaseAdvanced::full_name() => Fact::Advanced(read(payload)?),
        t if t == DeadlineMoved::full_name() => Fact::Moved(read(payload)?),
        t if t == LetterIssued::full_name() => Fact::Letter(read(payload)?),
        t if t == LeaderCaseChanged::full_name() => Fact::LeaderCase(read(payload)?),
        t if t == WatchListChanged::full_name() => Fact::Watch(read(payload)?),
        t if t == InspectionRecorded::full_name() => Fact::Inspection(read(payload)?),
        t if t == ReceptionRecorded::full_name() => Fact::Reception(read(payload)?),
        t if t == DirectoryPublished::full_name() => Fact::Directory(read(payload)?),
        other => return Err(format!("unknown event type {other}")),
    })
}

fn uuid(field: &str, value: &str) -> Result<Uuid, String> {
    Uuid::parse_str(value).map_err(|_| format!("{field} {value:?} is not a UUID"))
}

fn optional_uuid(field: &str, value: &str) -> Result<Option<Uuid>, String> {
    (!value.is_empty()).then(|| uuid(field, value)).transpose()
}

impl Fact {
    /// The case the fact is about (`None` for the bureau's own work: receptions, the watch
    /// list, inspections), checked against the envelope's.
    pub fn case_id(&self) -> Result<Option<Uuid>, String> {
        let named = match self {
            Fact::Registered(e) => e.case_id.clone(),
            Fact::Corrected(e) => e.case_id.clone(),
            Fact::Linked(e) => e.case_id.clone(),
            Fact::Routed(e) => e.case_id.clone(),
            Fact::Opened(e) => e.case_id.clone(),
            Fact::Advanced(e) => e.case_id.clone(),
            Fact::Moved(e) => e.case_id.clone(),
            Fact::Letter(e) => e.letter.clone().unwrap_or_default().case_id,
            Fact::LeaderCase(e) => e.leader_case.clone().unwrap_or_default().case_id,
            Fact::Watch(_) | Fact::Inspection(_) | Fact::Reception(_) | Fact::Directory(_) => {
                return Ok(None);
            }
        };
        uuid("case_id", &named).map(Some)
    }

    /// Another case whose record this fact changes: the petition a link took into the case,
    /// and the case a repeat petition repeats.
    pub fn related_case_id(&self) -> Result<Option<Uuid>, String> {
        match self {
            Fact::Linked(e) => uuid("linked_case_id", &e.linked_case_id).map(Some),
            Fact::Registered(e) => optional_uuid("repeat_of_case_id", &e.repeat_of_case_id),
            _ => Ok(None),
        }
    }
}
