//! What a visit adds to a petition: the representatives a group of visitors chose to speak
//! for it (Art 20: at most five), and, for a petition a higher bureau sends down, where the
//! petitioner went above this city (进京访, 赴省访, 赴咸访). Plain values in and out.

use xinfang_platform::grpc::FieldViolation;
use xinfang_proto::v1 as proto;
pub use xinfang_proto::vocabulary::EscalatedTo;

use crate::identity::{IdCardNumber, PhoneNumber};
use crate::petition::{Channel, MAX_ADDRESS_CHARS, MAX_NAME_CHARS, SourceLevel, text};
use crate::sealed_identity::PetitionerRecord;

/// Art 20: a visit by several people sends at most five representatives.
pub const MAX_REPRESENTATIVES: usize = 5;

/// The representatives as given, normalised like a petitioner (each a person); every wrong
/// field named by its path.
pub fn representatives(
    petition: &proto::Petition,
    channel: Option<Channel>,
) -> Result<Vec<PetitionerRecord>, Vec<FieldViolation>> {
    let given = &petition.representatives;
    if given.is_empty() {
        return Ok(Vec::new());
    }
    let mut problems = Vec::new();
    let whole = |why: &str| FieldViolation::new("petition.representatives", why);
    if channel.is_some_and(|channel| channel != Channel::Visit) {
        problems.push(whole(
            "only a visit by several people sends representatives (Art 20)",
        ));
    }
    if petition.anonymous {
        problems.push(whole("an anonymous petition names no one"));
    }
    if given.len() > MAX_REPRESENTATIVES {
        problems.push(whole(
            "at most five representatives speak for a visit (Art 20); record the others in the people count",
        ));
    }
    if petition.people_count < 2 || given.len() > petition.people_count as usize {
        problems.push(whole(
            "a group's representatives are some of its people: people_count must be at least 2 and no fewer than the representatives",
        ));
    }
    let mut records = Vec::new();
    for (index, person) in given.iter().enumerate() {
        let field = |name: &str| format!("petition.representatives[{index}].{name}");
        let before = problems.len();
        let person_or_unset = [0, proto::PetitionerKind::Person as i32];
        if !person_or_unset.contains(&person.kind) {
            problems.push(FieldViolation::new(
                field("kind"),
                "a representative is a person",
            ));
        }
        if person.phone.trim().is_empty() && person.address.trim().is_empty() {
            // Notices to the group are served on them.
            problems.push(FieldViolation::new(
                field("phone"),
                "a representative needs a phone number or an address to be reached",
            ));
        }
        let name = text(&person.name, MAX_NAME_CHARS, false)
            .map_err(|why| problems.push(FieldViolation::new(field("name"), why)))
            .ok();
        let id_card = optional(&person.id_card_number, IdCardNumber::parse)
            .map_err(|why| problems.push(FieldViolation::new(field("id_card_number"), why)))
            .ok();
        let phone = optional(&person.phone, PhoneNumber::parse)
            .map_err(|why| problems.push(FieldViolation::new(field("phone"), why)))
            .ok();
        let address = optional(&person.address, |a| text(a, MAX_ADDRESS_CHARS, false))
            .map_err(|why| problems.push(FieldViolation::new(field("address"), why)))
            .ok();
        if let (Some(name), Some(id_card), Some(phone), Some(address)) =
            (name, id_card, phone, address)
            && problems.len() == before
        {
            records.push(PetitionerRecord {
                name,
                id_card_number: id_card.map(|id| id.as_str().to_owned()),
                phone: phone.map(|phone| phone.as_str().to_owned()),
                address,
                representatives: Vec::new(),
            });
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(problems)
    }
}

/// The escalation marker: only a higher bureau reports one, so only with its source.
pub fn escalation(
    petition: &proto::Petition,
    source: Option<SourceLevel>,
) -> Result<Option<EscalatedTo>, FieldViolation> {
    let field = "petition.escalated_to";
    if petition.escalated_to == 0 {
        return Ok(None);
    }
    let marker = EscalatedTo::from_proto(petition.escalated_to)
        .map_err(|why| FieldViolation::new(field, why))?;
    if source == Some(SourceLevel::Local) {
        return Err(FieldViolation::new(
            field,
            "is reported by the higher bureau sending the petition down: the source must be PREFECTURE, PROVINCIAL or NATIONAL",
        ));
    }
    Ok(Some(marker))
}

fn optional<T>(
    value: &str,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Result<Option<T>, &'static str> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        parse(value).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str) -> proto::PetitionerIdentity {
        proto::PetitionerIdentity {
            kind: proto::PetitionerKind::Person as i32,
            name: name.into(),
            phone: "13800138000".into(),
            ..Default::default()
        }
    }

    fn visit(people: u32, representatives: usize) -> proto::Petition {
        proto::Petition {
            channel: proto::Channel::Visit as i32,
            people_count: people,
            representatives: (0..representatives)
                .map(|n| person(&format!("代表{n}")))
                .collect(),
            ..Default::default()
        }
    }

    fn fields(problems: Vec<FieldViolation>) -> Vec<String> {
        problems.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_group_of_thirty_sends_five_representatives() {
        let chosen = representatives(&visit(30, 5), Some(Channel::Visit)).expect("valid");
        assert_eq!(chosen.len(), 5);
        assert_eq!(chosen[0].phone.as_deref(), Some("13800138000"));
    }

    #[test]
    fn a_sixth_representative_is_refused_under_art_20() {
        let problems = representatives(&visit(30, 6), Some(Channel::Visit)).expect_err("six");
        assert_eq!(fields(problems), ["petition.representatives"]);
    }

    #[test]
    fn only_a_visit_by_several_people_has_representatives() {
        let mut letter = visit(30, 2);
        letter.channel = proto::Channel::Letter as i32;
        assert_eq!(
            fields(representatives(&letter, Some(Channel::Letter)).expect_err("a letter")),
            ["petition.representatives"]
        );
        assert_eq!(
            fields(representatives(&visit(1, 1), Some(Channel::Visit)).expect_err("alone")),
            ["petition.representatives"]
        );
    }

    #[test]
    fn each_representative_is_a_named_person_with_valid_numbers() {
        let mut group = visit(10, 2);
        group.representatives[1].name = String::new();
        group.representatives[1].phone = "12".into();
        group.representatives[0].kind = proto::PetitionerKind::Organisation as i32;
        assert_eq!(
            fields(representatives(&group, Some(Channel::Visit)).expect_err("wrong")),
            [
                "petition.representatives[0].kind",
                "petition.representatives[1].name",
                "petition.representatives[1].phone"
            ]
        );
    }

    #[test]
    fn only_a_higher_bureau_reports_a_visit_above_the_city() {
        let marked = proto::Petition {
            escalated_to: proto::EscalatedTo::Beijing as i32,
            ..Default::default()
        };
        assert_eq!(
            escalation(&marked, Some(SourceLevel::National)),
            Ok(Some(EscalatedTo::Beijing))
        );
        assert_eq!(
            escalation(&marked, Some(SourceLevel::Local)).map_err(|p| p.field),
            Err("petition.escalated_to".to_owned())
        );
        let unknown = proto::Petition {
            escalated_to: 9,
            ..Default::default()
        };
        assert!(escalation(&unknown, Some(SourceLevel::Provincial)).is_err());
        assert_eq!(
            escalation(&proto::Petition::default(), Some(SourceLevel::Local)),
            Ok(None)
        );
    }
}
