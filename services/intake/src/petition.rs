//! A petition as intake accepts it: parsed from the request once, at the edge, into values
//! that cannot be invalid. Every wrong field is reported at once, with its path.

use time::{Date, Duration, OffsetDateTime};
use xinfang_platform::grpc::FieldViolation;
use xinfang_proto::v1 as proto;

use crate::codes::DirectoryCode;
use crate::identity::{IdCardNumber, PhoneNumber};
pub use xinfang_proto::vocabulary::{Channel, PetitionerKind, SourceLevel, UpstreamDisposition};

pub(crate) const MAX_TITLE_CHARS: usize = 200;
pub(crate) const MAX_CONTENT_CHARS: usize = 20_000;
pub(crate) const MAX_NAME_CHARS: usize = 100;
pub(crate) const MAX_ADDRESS_CHARS: usize = 300;
const MAX_REFERENCE_CHARS: usize = 64;
const MAX_PEOPLE: u32 = 100_000;
/// Clocks of clerks' machines drift; a receipt a little in the future is not absurd.
const ALLOWED_CLOCK_SKEW: Duration = Duration::minutes(5);
const EARLIEST_RECEIPT_YEAR: i32 = 2000;

/// A higher bureau's reference for a petition it sent down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub reference: String,
    pub disposition: UpstreamDisposition,
    pub deadline: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Petitioner {
    pub kind: PetitionerKind,
    pub name: String,
    pub id_card: Option<IdCardNumber>,
    pub phone: Option<PhoneNumber>,
    pub address: Option<String>,
}

/// The person an accusation names. Personal data: its Debug shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccusedPerson {
    pub name: String,
    pub position: Option<String>,
    pub unit_name: Option<String>,
}

impl std::fmt::Debug for AccusedPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccusedPerson(..)")
    }
}

/// A petition that passed every check, ready to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPetition {
    pub channel: Channel,
    pub source_level: SourceLevel,
    pub upstream: Option<Upstream>,
    pub received_at: OffsetDateTime,
    /// `None` for an anonymous petition.
    pub petitioner: Option<Petitioner>,
    pub people_count: u32,
    pub territory: DirectoryCode,
    pub matter_category: DirectoryCode,
    pub title: String,
    pub content: String,
    pub accused_unit: Option<DirectoryCode>,
    pub accused_person: Option<AccusedPerson>,
    pub attachments: Vec<crate::attachments::Attachment>,
    /// A visiting group's representatives (Art 20), at most five.
    pub representatives: Vec<crate::sealed_identity::PetitionerRecord>,
    /// A visit above the city that the higher bureau sending it down reported.
    pub escalated_to: Option<crate::visit::EscalatedTo>,
}

impl NewPetition {
    /// Parses the request's petition; `now` bounds the receipt time.
    pub fn parse(
        petition: Option<&proto::Petition>,
        now: OffsetDateTime,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let Some(petition) = petition else {
            violations.add("petition", "is required");
            return Err(violations.0);
        };
        let channel = violations.check("petition.channel", Channel::from_proto(petition.channel));
        let (source_level, upstream) = parse_source(petition.source.as_ref(), &mut violations);
        let received_at = violations.check(
            "petition.received_at",
            received_at(petition.received_at.as_ref(), now),
        );
        let petitioner = parse_petitioner(petition, &mut violations);
        let people_count = violations.check(
            "petition.people_count",
            match petition.people_count {
                0 => Err("is required (at least 1)"),
                count if count > MAX_PEOPLE => Err("is more than 100000"),
                count => Ok(count),
            },
        );
        let territory = violations.check(
            "petition.territory_code",
            DirectoryCode::parse(&petition.territory_code),
        );
        let matter_category = violations.check(
            "petition.matter_category",
            DirectoryCode::parse(&petition.matter_category),
        );
        let title = violations.check(
            "petition.title",
            text(&petition.title, MAX_TITLE_CHARS, false),
        );
        let content = violations.check(
            "petition.content",
            text(&petition.content, MAX_CONTENT_CHARS, true),
        );
        let accused_unit = if petition.accused_unit_code.is_empty() {
            Some(None)
        } else {
            violations.check(
                "petition.accused_unit_code",
                DirectoryCode::parse(&petition.accused_unit_code).map(Some),
            )
        };
        let accused_person = parse_accused_person(petition, &mut violations);
        let attachments = match crate::attachments::parse(&petition.attachments) {
            Ok(attachments) => Some(attachments),
            Err(problems) => {
                for (field, why) in problems {
                    violations.add(&field, why);
                }
                None
            }
        };

        let representatives = match crate::visit::representatives(petition, channel) {
            Ok(chosen) => Some(chosen),
            Err(problems) => {
                violations.0.extend(problems);
                None
            }
        };
        let escalated_to = match crate::visit::escalation(petition, source_level) {
            Ok(marker) => Some(marker),
            Err(problem) => {
                violations.0.push(problem);
                None
            }
        };

        let parsed = (|| {
            Some(Self {
                channel: channel?,
                source_level: source_level?,
                upstream: upstream?,
                received_at: received_at?,
                petitioner: petitioner?,
                people_count: people_count?,
                territory: territory?,
                matter_category: matter_category?,
                title: title?,
                content: content?,
                accused_unit: accused_unit?,
                accused_person: accused_person?,
                attachments: attachments?,
                representatives: representatives?,
                escalated_to: escalated_to?,
            })
        })();
        match parsed {
            Some(petition) if violations.0.is_empty() => Ok(petition),
            _ => Err(violations.0),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.petitioner.is_none()
    }
}

/// Collects every violation instead of stopping at the first.
#[derive(Default)]
struct Violations(Vec<FieldViolation>);

impl Violations {
    fn add(&mut self, field: &str, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    fn check<T, E: Into<String>>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        result
            .map_err(|description| self.add(field, description))
            .ok()
    }
}

/// The accused person, if named: a name, and the accused unit's code beside it, so the
/// case is kept away from the unit they work in (Art 30).
fn parse_accused_person(
    petition: &proto::Petition,
    violations: &mut Violations,
) -> Option<Option<AccusedPerson>> {
    let Some(person) = petition.accused_person.as_ref() else {
        return Some(None);
    };
    if petition.accused_unit_code.is_empty() {
        violations.add(
            "petition.accused_unit_code",
            "is required when an accused person is named: the case must be kept away from their unit",
        );
    }
    let optional = |field: &str, value: &str, max: usize, violations: &mut Violations| {
        if value.trim().is_empty() {
            Some(None)
        } else {
            violations.check(field, text(value, max, false)).map(Some)
        }
    };
    let name = violations.check(
        "petition.accused_person.name",
        text(&person.name, MAX_NAME_CHARS, false),
    );
    let position = optional(
        "petition.accused_person.position",
        &person.position,
        MAX_NAME_CHARS,
        violations,
    );
    let unit_name = optional(
        "petition.accused_person.unit_name",
        &person.unit_name,
        MAX_ADDRESS_CHARS,
        violations,
    );
    Some(Some(AccusedPerson {
        name: name?,
        position: position?,
        unit_name: unit_name?,
    }))
}

fn parse_source(
    source: Option<&proto::PetitionSource>,
    violations: &mut Violations,
) -> (Option<SourceLevel>, Option<Option<Upstream>>) {
    let Some(source) = source else {
        violations.add("petition.source", "is required");
        return (None, None);
    };
    let Some(level) = violations.check(
        "petition.source.level",
        SourceLevel::from_proto(source.level),
    ) else {
        return (None, None);
    };
    if level == SourceLevel::Local {
        let has_upstream = !source.upstream_reference.is_empty()
            || source.disposition != 0
            || source.upstream_deadline.is_some();
        if has_upstream {
            violations.add(
                "petition.source",
                "a petition registered here has no upstream reference, disposition or deadline",
            );
            return (Some(level), None);
        }
        return (Some(level), Some(None));
    }
    let reference = violations.check(
        "petition.source.upstream_reference",
        text(&source.upstream_reference, MAX_REFERENCE_CHARS, false),
    );
    let disposition = violations.check(
        "petition.source.disposition",
        UpstreamDisposition::from_proto(source.disposition).map_err(|error| {
            if error == "is required" {
                "is required for a petition sent down by a higher bureau"
            } else {
                error
            }
        }),
    );
    let deadline = match &source.upstream_deadline {
        None => Some(None),
        Some(date) => violations.check(
            "petition.source.upstream_deadline",
            calendar_date(date).map(Some),
        ),
    };
    match (reference, disposition, deadline) {
        (Some(reference), Some(disposition), Some(deadline)) => (
            Some(level),
            Some(Some(Upstream {
                reference,
                disposition,
                deadline,
            })),
        ),
        _ => (Some(level), None),
    }
}

/// `Some(None)` for a valid anonymous petition; `None` when something is wrong.
fn parse_petitioner(
    petition: &proto::Petition,
    violations: &mut Violations,
) -> Option<Option<Petitioner>> {
    let identity = petition.petitioner.as_ref();
    if petition.anonymous {
        let carries_identity = identity.is_some_and(|p| {
            !(p.name.is_empty()
                && p.id_card_number.is_empty()
                && p.phone.is_empty()
                && p.address.is_empty())
        });
        if carries_identity {
            violations.add(
                "petition.petitioner",
                "an anonymous petition carries no identity",
            );
            return None;
        }
        return Some(None);
    }
    let Some(identity) = identity else {
        violations.add(
            "petition.petitioner",
            "is required unless the petition is anonymous",
        );
        return None;
    };
    let before = violations.0.len();
    let kind = violations.check(
        "petition.petitioner.kind",
        PetitionerKind::from_proto(identity.kind),
    );
    let name = violations.check(
        "petition.petitioner.name",
        text(&identity.name, MAX_NAME_CHARS, false),
    );
    let id_card = optional(&identity.id_card_number, IdCardNumber::parse);
    let id_card = violations.check("petition.petitioner.id_card_number", id_card);
    if kind == Some(PetitionerKind::Organisation) && !identity.id_card_number.is_empty() {
        violations.add(
            "petition.petitioner.id_card_number",
            "an organisation has no identity card",
        );
    }
    let phone = violations.check(
        "petition.petitioner.phone",
        optional(&identity.phone, PhoneNumber::parse),
    );
    let address = violations.check(
        "petition.petitioner.address",
        optional(&identity.address, |address| {
            text(address, MAX_ADDRESS_CHARS, false)
        }),
    );
    if identity.phone.trim().is_empty() && identity.address.trim().is_empty() {
        violations.add(
            "petition.petitioner",
            "needs an address or a phone number to be answered",
        );
    }
    if violations.0.len() > before {
        return None;
    }
    match (kind, name, id_card, phone, address) {
        (Some(kind), Some(name), Some(id_card), Some(phone), Some(address)) => {
            Some(Some(Petitioner {
                kind,
                name,
                id_card,
                phone,
                address,
            }))
        }
        _ => None,
    }
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

/// Trimmed text, required, within a length, free of control characters (content may keep
/// its line breaks and tabs).
pub(crate) fn text(value: &str, max_chars: usize, multiline: bool) -> Result<String, &'static str> {
    let value = value.trim();
    if value.is_empty() {
        return Err("is required");
    }
    if value.chars().count() > max_chars {
        return Err("is too long");
    }
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
    if !value.chars().all(allowed) {
        return Err("contains control characters");
    }
    if has_invisible_format(value) {
        return Err(
            "contains invisible formatting characters (direction overrides, zero-width characters)",
        );
    }
    Ok(value.to_owned())
}

/// Whether the text holds an invisible format character (see [`invisible_format`]).
pub fn has_invisible_format(value: &str) -> bool {
    value.chars().any(invisible_format)
}

/// Unicode format characters that change how text shows without showing themselves: the
/// direction overrides and isolates (a name or a number can be made to read backwards), the
/// zero-width characters and the byte-order mark (two names that look alike and are not).
/// Every format character (Unicode category Cf) and the blank fillers that show nothing,
/// and the line and paragraph separators.
fn invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

fn received_at(
    timestamp: Option<&prost_types::Timestamp>,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, &'static str> {
    let timestamp = timestamp.ok_or("is required")?;
    let seconds_and_nanos =
        i128::from(timestamp.seconds) * 1_000_000_000 + i128::from(timestamp.nanos);
    let at = OffsetDateTime::from_unix_timestamp_nanos(seconds_and_nanos)
        .map_err(|_| "is not a valid time")?;
    if at > now + ALLOWED_CLOCK_SKEW {
        return Err("is in the future");
    }
    if at.year() < EARLIEST_RECEIPT_YEAR {
        return Err("is before 2000");
    }
    Ok(at)
}

fn calendar_date(date: &proto::CalendarDate) -> Result<Date, &'static str> {
    let month = u8::try_from(date.month)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok());
    let day = u8::try_from(date.day).ok();
    match (month, day) {
        (Some(month), Some(day)) if (EARLIEST_RECEIPT_YEAR..=2100).contains(&date.year) => {
            Date::from_calendar_date(date.year, month, day).map_err(|_| "is not a calendar date")
        }
        _ => Err("is not a calendar date"),
    }
}

#[cfg(test)]
#[path = "petition_tests.rs"]
mod tests;
