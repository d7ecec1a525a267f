//! The requests of routing's commands, every field checked at the edge: a bad request is
//! refused whole, with each field's problem, before anything is read or changed.

use time::OffsetDateTime;
use tonic::Status;
use uuid::Uuid;
use xinfang_platform::grpc::{FieldViolation, invalid_argument};
use xinfang_platform::wire;
use xinfang_proto::codes::DirectoryCode;
use xinfang_proto::routing::v1 as api;
use xinfang_proto::vocabulary::{LegalTrack, UnitKind};

use crate::administer::UnitChange;
use crate::by_hand::ByHand;
use crate::directory::{CategoryEntry, UnitEntry};
use crate::rules::Disposition;

/// The longest reason or guidance notice a clerk writes: it travels on an event.
const MAX_TEXT_CHARS: usize = 2_000;

/// A RouteCase request, every field checked.
pub fn parse_by_hand(request: &api::RouteCaseRequest, today: time::Date) -> Result<ByHand, Status> {
    let mut violations = Vec::new();
    let case_id = Uuid::parse_str(&request.case_id)
        .map_err(|_| violations.push(FieldViolation::new("case_id", "must be a UUID")))
        .ok();
    if request.unit_code.trim().is_empty() {
        violations.push(FieldViolation::new("unit_code", "is required"));
    }
    let disposition = match Disposition::from_proto(request.disposition) {
        Ok(Disposition::Triage) => {
            violations.push(FieldViolation::new(
                "disposition",
                "must be forward, assign or divert: a clerk routes the case somewhere",
            ));
            None
        }
        Ok(disposition) => Some(disposition),
        Err(why) => {
            violations.push(FieldViolation::new("disposition", why));
            None
        }
    };
    if request.reason.trim().is_empty() {
        violations.push(FieldViolation::new(
            "reason",
            "is required: why the case goes there, as a clerk will read it",
        ));
    }
    for (field, value) in [
        ("reason", &request.reason),
        ("guidance_notice", &request.guidance_notice),
    ] {
        if value.chars().count() > MAX_TEXT_CHARS {
            violations.push(FieldViolation::new(
                field,
                format!("is longer than {MAX_TEXT_CHARS} characters"),
            ));
        }
    }
    let accused_unit_code = match request.accused_unit_code.trim() {
        "" => None,
        code => match xinfang_proto::codes::DirectoryCode::parse(code) {
            Ok(_) => Some(code.to_owned()),
            Err(why) => {
                violations.push(FieldViolation::new(
                    "accused_unit_code",
                    format!("{code:?} {why}"),
                ));
                None
            }
        },
    };
    let assignment_deadline = match request.assignment_deadline.as_ref() {
        None => None,
        Some(day) => match wire::from_calendar_date(day) {
            Ok(day) if day < today => {
                violations.push(FieldViolation::new(
                    "assignment_deadline",
                    format!("{day} is already past"),
                ));
                None
            }
            Ok(day) => Some(day),
            Err(why) => {
                violations.push(FieldViolation::new("assignment_deadline", why));
                None
            }
        },
    };
    let mut co_handling_units: Vec<String> = Vec::new();
    for (at, unit) in request.co_handling_units.iter().enumerate() {
        let unit = code(&format!("co_handling_units[{at}]"), unit, &mut violations);
        if co_handling_units.contains(&unit) {
            violations.push(FieldViolation::new(
                format!("co_handling_units[{at}]"),
                format!("{unit:?} is named twice"),
            ));
        }
        co_handling_units.push(unit);
    }
    if co_handling_units.len() > MAX_CO_HANDLING_UNITS {
        violations.push(FieldViolation::new(
            "co_handling_units",
            format!("at most {MAX_CO_HANDLING_UNITS} units"),
        ));
    }
    match (case_id, disposition) {
        (Some(case_id), Some(disposition)) if violations.is_empty() => Ok(ByHand {
            case_id,
            unit_code: request.unit_code.trim().to_owned(),
            disposition,
            reason: request.reason.trim().to_owned(),
            assignment_deadline,
            guidance_notice: request.guidance_notice.trim().to_owned(),
            accused_unit_code,
            matter_category: Some(request.matter_category.trim().to_owned())
                .filter(|code| !code.is_empty()),
            stage: None,
            co_handling_units,
        }),
        _ => Err(invalid_argument(&violations)),
    }
}

/// The most co-handling units (协办) one case may have.
const MAX_CO_HANDLING_UNITS: usize = 10;

/// The longest unit or category name.
const MAX_NAME_CHARS: usize = 100;
/// The longest category table version.
const MAX_VERSION_CHARS: usize = 64;

fn required_reason(reason: &str, violations: &mut Vec<FieldViolation>) -> String {
    let reason = reason.trim();
    if reason.is_empty() {
        violations.push(FieldViolation::new(
            "reason",
            "is required: why the directory changes, kept with the revision",
        ));
    } else if reason.chars().count() > MAX_TEXT_CHARS {
        violations.push(FieldViolation::new(
            "reason",
            format!("is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    reason.to_owned()
}

fn code(field: &str, text: &str, violations: &mut Vec<FieldViolation>) -> String {
    let text = text.trim();
    if text.is_empty() {
        violations.push(FieldViolation::new(field, "is required"));
    } else if let Err(why) = DirectoryCode::parse(text) {
        violations.push(FieldViolation::new(field, format!("{text:?} {why}")));
    }
    text.to_owned()
}

fn name(field: &str, text: &str, violations: &mut Vec<FieldViolation>) -> String {
    let text = text.trim();
    if text.is_empty() {
        violations.push(FieldViolation::new(field, "is required"));
    } else if text.chars().count() > MAX_NAME_CHARS {
        violations.push(FieldViolation::new(
            field,
            format!("is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    text.to_owned()
}

fn checked<T>(value: T, violations: &[FieldViolation]) -> Result<T, Status> {
    if violations.is_empty() {
        Ok(value)
    } else {
        Err(invalid_argument(violations))
    }
}

/// A unit to add: a code, a name, a kind, and its parent unless it is at the top.
pub fn parse_add_unit(request: &api::AddUnitRequest) -> Result<(UnitChange, String), Status> {
    let mut violations = Vec::new();
    let reason = required_reason(&request.reason, &mut violations);
    let Some(unit) = request.unit.as_ref() else {
        violations.push(FieldViolation::new("unit", "is required"));
        return Err(invalid_argument(&violations));
    };
    let unit_code = code("unit.code", &unit.code, &mut violations);
    let unit_name = name("unit.name", &unit.name, &mut violations);
    let kind = match UnitKind::from_proto(unit.kind) {
        Ok(UnitKind::Bureau) => {
            violations.push(FieldViolation::new(
                "unit.kind",
                "the directory has its one bureau already",
            ));
            None
        }
        Ok(kind) => Some(kind),
        Err(why) => {
            violations.push(FieldViolation::new("unit.kind", why));
            None
        }
    };
    // A unit at the top of the tree (a town, a department) has no parent.
    let parent = match unit.parent_code.trim() {
        "" => None,
        parent => Some(code("unit.parent_code", parent, &mut violations)),
    };
    if unit.retired {
        violations.push(FieldViolation::new(
            "unit.retired",
            "a unit is added in service; retire it afterwards",
        ));
    }
    let entry = UnitEntry {
        code: unit_code,
        name: unit_name,
        kind: kind.map(UnitKind::code).unwrap_or_default().to_owned(),
        parent,
        retired: false,
    };
    checked((UnitChange::Add(entry), reason), &violations)
}

pub fn parse_rename_unit(request: &api::RenameUnitRequest) -> Result<(UnitChange, String), Status> {
    let mut violations = Vec::new();
    let reason = required_reason(&request.reason, &mut violations);
    let change = UnitChange::Rename {
        code: code("code", &request.code, &mut violations),
        name: name("name", &request.name, &mut violations),
    };
    checked((change, reason), &violations)
}

pub fn parse_move_unit(request: &api::MoveUnitRequest) -> Result<(UnitChange, String), Status> {
    let mut violations = Vec::new();
    let reason = required_reason(&request.reason, &mut violations);
    let parent = match request.parent_code.trim() {
        "" => None,
        parent => Some(code("parent_code", parent, &mut violations)),
    };
    let change = UnitChange::Move {
        code: code("code", &request.code, &mut violations),
        parent,
    };
    checked((change, reason), &violations)
}

pub fn parse_retire_unit(request: &api::RetireUnitRequest) -> Result<(UnitChange, String), Status> {
    let mut violations = Vec::new();
    let reason = required_reason(&request.reason, &mut violations);
    let change = UnitChange::Retire {
        code: code("code", &request.code, &mut violations),
    };
    checked((change, reason), &violations)
}

pub fn parse_remove_unit(request: &api::RemoveUnitRequest) -> Result<(UnitChange, String), Status> {
    let mut violations = Vec::new();
    let reason = required_reason(&request.reason, &mut violations);
    let change = UnitChange::Remove {
        code: code("code", &request.code, &mut violations),
    };
    checked((change, reason), &violations)
}

/// A category table to publish: its version, when it takes effect, every entry.
pub struct TableRequest {
    pub version: String,
    pub effective_at: Option<OffsetDateTime>,
    pub entries: Vec<CategoryEntry>,
}

pub fn parse_publish_table(
    request: &api::PublishCategoryTableRequest,
) -> Result<TableRequest, Status> {
    let mut violations = Vec::new();
    let version = request.version.trim().to_owned();
    if version.is_empty() {
        violations.push(FieldViolation::new("version", "is required, e.g. 2026.2"));
    } else if version.chars().count() > MAX_VERSION_CHARS
        || version.contains('/')
        || version.chars().any(char::is_whitespace)
    {
        violations.push(FieldViolation::new(
            "version",
            format!("must be at most {MAX_VERSION_CHARS} characters, without spaces or '/'"),
        ));
    }
    let effective_at = match request.effective_at.as_ref() {
        None => None,
        Some(at) => match wire::from_timestamp(Some(at)) {
            Ok(at) => Some(at),
            Err(why) => {
                violations.push(FieldViolation::new("effective_at", why));
                None
            }
        },
    };
    if request.categories.is_empty() {
        violations.push(FieldViolation::new(
            "categories",
            "is required: the whole table, every category",
        ));
    }
    let mut entries = Vec::with_capacity(request.categories.len());
    for (at, category) in request.categories.iter().enumerate() {
        let field = |name: &str| format!("categories[{at}].{name}");
        let category_code = code(&field("code"), &category.code, &mut violations);
        let category_name = name(&field("name"), &category.name, &mut violations);
        let track = match LegalTrack::from_proto(category.track) {
            Ok(track) => track.code(),
            Err(why) => {
                violations.push(FieldViolation::new(field("track"), why));
                ""
            }
        };
        let handled_by = match category.handled_by.trim() {
            "" => "territory".to_owned(),
            unit => code(&field("handled_by"), unit, &mut violations),
        };
        let legal_basis = category.legal_basis.trim();
        if legal_basis.chars().count() > MAX_TEXT_CHARS {
            violations.push(FieldViolation::new(
                field("legal_basis"),
                format!("is longer than {MAX_TEXT_CHARS} characters"),
            ));
        }
        entries.push(CategoryEntry {
            code: category_code,
            name: category_name,
            track: track.to_owned(),
            handled_by,
            legal_basis: Some(legal_basis.to_owned()).filter(|basis| !basis.is_empty()),
        });
    }
    checked(
        TableRequest {
            version,
            effective_at,
            entries,
        },
        &violations,
    )
}
