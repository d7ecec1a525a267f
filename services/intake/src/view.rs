//! How intake shows a stored petition: the protobuf resource, with the petitioner's
//! identity masked.

use time::OffsetDateTime;
use xinfang_proto::v1 as proto;

use crate::identity::{IdCardNumber, PhoneNumber, mask_address, mask_name};
use crate::links::LinkReason;
use crate::petition::{Channel, PetitionerKind, SourceLevel, UpstreamDisposition};
use xinfang_platform::sealing::KeyRing;

use crate::sealed_identity::{self, AccusedRecord, HIDDEN, PetitionerRecord};
use crate::store::{accused_person, petition, petitioner};
use crate::visit::EscalatedTo;

/// A stored petition as shown: its identities opened with `keys`, then masked.
pub fn stored_petition(
    keys: &KeyRing,
    row: &petition::Model,
    petitioner: Option<&petitioner::Model>,
    accused: Option<&accused_person::Model>,
) -> proto::Petition {
    let identity = petitioner.map(|person| {
        (
            person.kind.as_str(),
            sealed_identity::petitioner_or_hidden(keys, person),
        )
    });
    let accused = accused.map(|person| sealed_identity::accused_or_hidden(keys, person));
    petition(
        row,
        identity.as_ref().map(|(kind, record)| (*kind, record)),
        accused.as_ref(),
    )
}

pub fn petition(
    row: &petition::Model,
    petitioner: Option<(&str, &PetitionerRecord)>,
    accused: Option<&AccusedRecord>,
) -> proto::Petition {
    proto::Petition {
        case_id: row.case_id.to_string(),
        case_number: row.case_number.clone(),
        channel: Channel::from_code(&row.channel)
            .map(|c| c.to_proto() as i32)
            .unwrap_or_default(),
        source: Some(proto::PetitionSource {
            level: SourceLevel::from_code(&row.source_level)
                .map(|l| l.to_proto() as i32)
                .unwrap_or_default(),
            upstream_reference: row.upstream_reference.clone().unwrap_or_default(),
            disposition: row
                .upstream_disposition
                .as_deref()
                .and_then(UpstreamDisposition::from_code)
                .map(|d| d.to_proto() as i32)
                .unwrap_or_default(),
            upstream_deadline: row.upstream_deadline.map(|date| proto::CalendarDate {
                year: date.year(),
                month: i32::from(u8::from(date.month())),
                day: i32::from(date.day()),
            }),
        }),
        received_at: Some(timestamp(row.received_at)),
        registered_at: Some(timestamp(row.registered_at)),
        anonymous: row.anonymous,
        petitioner: petitioner.map(|(kind, record)| masked_identity(kind, record)),
        people_count: u32::try_from(row.people_count).unwrap_or_default(),
        territory_code: row.territory_code.clone(),
        matter_category: row.matter_category.clone(),
        title: row.title.clone(),
        content: row.content.clone(),
        accused_unit_code: row.accused_unit_code.clone().unwrap_or_default(),
        collective: row.collective,
        accused_person: accused.map(masked_accused),
        notices: Vec::new(),
        // Read with one case (GetPetition), not in lists.
        attachments: Vec::new(),
        query_code: String::new(),
        registered_at_unit: row.registered_at_unit.clone().unwrap_or_default(),
        representatives: petitioner
            .map(|(_, record)| {
                record
                    .representatives
                    .iter()
                    .map(|person| masked_identity(PetitionerKind::Person.code(), person))
                    .collect()
            })
            .unwrap_or_default(),
        visit_batch: row
            .visit_batch
            .and_then(|batch| u32::try_from(batch).ok())
            .unwrap_or_default(),
        escalated_to: row
            .escalated_to
            .as_deref()
            .and_then(EscalatedTo::from_code)
            .map(|marker| marker.to_proto() as i32)
            .unwrap_or_default(),
        relations: Some(proto::PetitionRelations {
            repeat_of_case_number: row.repeat_of_case_number.clone().unwrap_or_default(),
            skip_level: row.skip_level,
            first_time: row.first_time,
            collective_matter_case_number: row
                .collective_matter_case_number
                .clone()
                .unwrap_or_default(),
            repeat: row.repeat_of_case_id.is_some(),
            collective_matter: row.collective_matter_case_id.is_some(),
            proposed_link: proposed_link(row),
            linked_to_case_number: row.linked_to_case_number.clone().unwrap_or_default(),
        }),
    }
}

fn proposed_link(row: &petition::Model) -> Option<proto::UpstreamLinkProposal> {
    let reason = row
        .proposal_reason
        .as_deref()
        .and_then(LinkReason::from_code)?;
    Some(proto::UpstreamLinkProposal {
        case_id: row.proposed_case_id?.to_string(),
        case_number: row.proposed_case_number.clone()?,
        reason: reason.to_proto().into(),
    })
}

/// The accused person's name masked like a petitioner's. Nothing serves it in full yet:
/// the handling unit's read of the whole case file comes with the lifecycle's commands,
/// audited like every read.
fn masked_accused(row: &AccusedRecord) -> proto::AccusedPerson {
    proto::AccusedPerson {
        name: mask_name(&row.name),
        position: row.position.clone().unwrap_or_default(),
        unit_name: row.unit_name.clone().unwrap_or_default(),
    }
}

pub fn petitioner_kind(code: &str) -> i32 {
    PetitionerKind::from_code(code)
        .map(|k| k.to_proto() as i32)
        .unwrap_or_default()
}

/// Enough to recognise the petitioner on the phone, not enough to find them. Stored values
/// were parsed on the way in; one that no longer parses is hidden whole.
fn masked_identity(kind: &str, row: &PetitionerRecord) -> proto::PetitionerIdentity {
    proto::PetitionerIdentity {
        kind: petitioner_kind(kind),
        name: mask_name(&row.name),
        id_card_number: row
            .id_card_number
            .as_deref()
            .map(|id| {
                IdCardNumber::parse(id)
                    .map(|id| id.masked())
                    .unwrap_or_else(|_| HIDDEN.into())
            })
            .unwrap_or_default(),
        phone: row
            .phone
            .as_deref()
            .map(|phone| {
                PhoneNumber::parse(phone)
                    .map(|p| p.masked())
                    .unwrap_or_else(|_| HIDDEN.into())
            })
            .unwrap_or_default(),
        address: row.address.as_deref().map(mask_address).unwrap_or_default(),
    }
}

/// What the registering clerk is told of the petition's relations to earlier ones; with
/// `numbers` false (a caller scoped to its units), without the other cases' numbers.
pub fn relation_notices(row: &petition::Model, numbers: bool) -> Vec<String> {
    let case = |number: &Option<String>| match number {
        Some(number) if numbers => format!("case {number}"),
        _ => "a case the bureau holds".to_owned(),
    };
    let mut notices = Vec::new();
    if row.repeat_of_case_number.is_some() {
        notices.push(format!(
            "a repeat petition (重复信访) of {}: linked to it and held for a clerk, not handed to a unit again",
            case(&row.repeat_of_case_number)
        ));
    }
    if row.skip_level {
        notices.push(format!(
            "skip-level (越级, Art 19): the matter of {} is already here, and now comes from a higher level",
            case(&row.repeat_of_case_number)
        ));
    }
    if row.collective_matter_case_number.is_some() {
        notices.push(format!(
            "joins the collective matter of {}: other petitioners brought near-identical petitions",
            case(&row.collective_matter_case_number)
        ));
    }
    if let Some(reason) = row
        .proposal_reason
        .as_deref()
        .and_then(LinkReason::from_code)
    {
        let why = match reason {
            LinkReason::SameUpstreamReference => "it carries the same higher bureau's reference",
            LinkReason::SamePetitionerSimilarContent => {
                "the same petitioner brought a near-identical matter"
            }
        };
        notices.push(format!(
            "looks like the matter of {} ({why}): held for a clerk, who links it (LinkUpstream) or routes it as a matter of its own",
            case(&row.proposed_case_number)
        ));
    }
    notices
}

/// For a caller scoped to its units: the other cases' numbers withheld (they may be cases
/// outside its units); whether there are any stays.
pub fn withhold_other_cases(answer: &mut proto::Petition) {
    if let Some(relations) = answer.relations.as_mut() {
        relations.repeat_of_case_number.clear();
        relations.collective_matter_case_number.clear();
        relations.proposed_link = None;
        relations.linked_to_case_number.clear();
    }
}

fn timestamp(at: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.unix_timestamp(),
        nanos: i32::try_from(at.nanosecond()).unwrap_or_default(),
    }
}

/// The identity in full: RevealPetitioner's answer, and nothing else's.
pub fn revealed_identity(kind: &str, row: &PetitionerRecord) -> proto::PetitionerIdentity {
    proto::PetitionerIdentity {
        kind: petitioner_kind(kind),
        name: row.name.clone(),
        id_card_number: row.id_card_number.clone().unwrap_or_default(),
        phone: row.phone.clone().unwrap_or_default(),
        address: row.address.clone().unwrap_or_default(),
    }
}
