//! ListPetitions' filter: by petitioner (through the keyed hashes), upstream reference,
//! registration period, channel, the unit a case was routed to, and how far it has got. Every condition is
//! checked whole before anything is read; a wrong one names its field.

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition};
use xinfang_platform::auth::within_units;
use xinfang_platform::grpc::FieldViolation;
use xinfang_platform::sealing::KeyRing;
use xinfang_platform::wire;
use xinfang_proto::codes::DirectoryCode;
use xinfang_proto::intake::v1::{PetitionFilter, PetitionStatus};

use crate::identity::{IdCardNumber, PhoneNumber};
use crate::petition::Channel;
use crate::sealed_identity::{ID_CARD, PHONE};
use crate::store::{petition, petition_scope, petitioner};

/// Where a petition stands as intake knows it: from routing's decisions (`petition_scope`)
/// and the links.
fn status_condition(status: PetitionStatus) -> Condition {
    let scoped = |held: Option<bool>| {
        let mut cases = Query::select()
            .column(petition_scope::Column::CaseId)
            .from(petition_scope::Entity)
            .to_owned();
        if let Some(held) = held {
            cases.and_where(petition_scope::Column::Held.eq(held));
        }
        cases
    };
    let unlinked = petition::Column::LinkedToCaseId.is_null();
    match status {
        PetitionStatus::Unspecified => Condition::all(),
        PetitionStatus::AwaitingRouting => Condition::all()
            .add(unlinked)
            .add(petition::Column::CaseId.not_in_subquery(scoped(None))),
        PetitionStatus::Held => Condition::all()
            .add(unlinked)
            .add(petition::Column::CaseId.in_subquery(scoped(Some(true)))),
        PetitionStatus::Routed => Condition::all()
            .add(unlinked)
            .add(petition::Column::CaseId.in_subquery(scoped(Some(false)))),
        PetitionStatus::Linked => {
            Condition::all().add(petition::Column::LinkedToCaseId.is_not_null())
        }
    }
}

/// The filter as a condition on `petition`, and whether it searches for a person (which the
/// audit records, never whom).
pub fn condition(
    filter: Option<&PetitionFilter>,
    keys: &KeyRing,
) -> Result<(Condition, bool), Vec<FieldViolation>> {
    let Some(filter) = filter else {
        return Ok((Condition::all(), false));
    };
    let mut violations = Vec::new();
    let mut all = Condition::all();
    let mut person = false;
    let by_petitioner = |lookup: petitioner::Column, hash: Vec<u8>| {
        let theirs = Query::select()
            .column(petitioner::Column::CaseId)
            .from(petitioner::Entity)
            .and_where(lookup.eq(hash))
            .to_owned();
        petition::Column::CaseId.in_subquery(theirs)
    };
    if !filter.petitioner_id_card_number.trim().is_empty() {
        match IdCardNumber::parse(&filter.petitioner_id_card_number) {
            Ok(id) => {
                person = true;
                all = all.add(by_petitioner(
                    petitioner::Column::IdCardLookup,
                    keys.lookup(ID_CARD, id.as_str()),
                ));
            }
            Err(why) => {
                violations.push(FieldViolation::new("filter.petitioner_id_card_number", why))
            }
        }
    }
    if !filter.petitioner_phone.trim().is_empty() {
        match PhoneNumber::parse(&filter.petitioner_phone) {
            Ok(phone) => {
                person = true;
                all = all.add(by_petitioner(
                    petitioner::Column::PhoneLookup,
                    keys.lookup(PHONE, phone.as_str()),
                ));
            }
            Err(why) => violations.push(FieldViolation::new("filter.petitioner_phone", why)),
        }
    }
    if !filter.upstream_reference.is_empty() {
        all = all.add(petition::Column::UpstreamReference.eq(filter.upstream_reference.trim()));
    }
    for (field, at, from) in [
        ("filter.registered_from", &filter.registered_from, true),
        ("filter.registered_before", &filter.registered_before, false),
    ] {
        let Some(at) = at else { continue };
        match wire::from_timestamp(Some(at)) {
            Ok(at) if from => all = all.add(petition::Column::RegisteredAt.gte(at)),
            Ok(at) => all = all.add(petition::Column::RegisteredAt.lt(at)),
            Err(why) => violations.push(FieldViolation::new(field, why)),
        }
    }
    if filter.channel != 0 {
        match Channel::from_proto(filter.channel) {
            Ok(channel) => all = all.add(petition::Column::Channel.eq(channel.code())),
            Err(why) => violations.push(FieldViolation::new("filter.channel", why)),
        }
    }
    if !filter.unit_code.is_empty() {
        match DirectoryCode::parse(&filter.unit_code) {
            Ok(unit) => {
                let routed = Query::select()
                    .column(petition_scope::Column::CaseId)
                    .from(petition_scope::Entity)
                    .cond_where(within_units(
                        petition_scope::Column::UnitPath,
                        &[unit.as_str().to_owned()],
                    ))
                    .to_owned();
                all = all.add(petition::Column::CaseId.in_subquery(routed));
            }
            Err(why) => violations.push(FieldViolation::new("filter.unit_code", why)),
        }
    }
    match PetitionStatus::try_from(filter.status) {
        Ok(PetitionStatus::Unspecified) => {}
        Ok(status) => all = all.add(status_condition(status)),
        Err(_) => violations.push(FieldViolation::new(
            "filter.status",
            format!("{} is not a petition status", filter.status),
        )),
    }
    if violations.is_empty() {
        Ok((all, person))
    } else {
        Err(violations)
    }
}
