//! Correcting a registration: a wrong matter category or territory, a typo in the title or
//! the content. Only the fields given change, each checked as at registration; the reason
//! and each field before and after are kept, and `PetitionCorrected` tells routing and
//! statistics the routing facts as they now stand.

use prost::Message;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::auth::Authorized;
use xinfang_platform::grpc::FieldViolation;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::sealing::KeyRing;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::codes::DirectoryCode;
use xinfang_proto::intake::v1::{self as api, PetitionCorrected};
use xinfang_proto::subjects;

use crate::petition::{MAX_CONTENT_CHARS, MAX_TITLE_CHARS, text};
use crate::register::SERVICE;
use crate::reveal;
use crate::store::{final_matter, petition, petition_correction};

/// A field a clerk may correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    TerritoryCode,
    MatterCategory,
    Title,
    Content,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::TerritoryCode => "territory_code",
            Field::MatterCategory => "matter_category",
            Field::Title => "title",
            Field::Content => "content",
        }
    }

    fn current(self, row: &petition::Model) -> &str {
        match self {
            Field::TerritoryCode => &row.territory_code,
            Field::MatterCategory => &row.matter_category,
            Field::Title => &row.title,
            Field::Content => &row.content,
        }
    }

    fn set(self, row: &mut petition::Model, value: String) {
        match self {
            Field::TerritoryCode => row.territory_code = value,
            Field::MatterCategory => row.matter_category = value,
            Field::Title => row.title = value,
            Field::Content => row.content = value,
        }
    }
}

/// One field as it was and as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// A CorrectPetition call, parsed.
#[derive(Debug, Clone)]
pub struct Correction {
    pub request_id: Uuid,
    pub case_id: Uuid,
    pub reason: String,
    pub values: Vec<(Field, String)>,
    pub fingerprint: Vec<u8>,
}

impl Correction {
    /// Reads the request, naming every wrong field at once.
    pub fn parse(
        request: &api::CorrectPetitionRequest,
        keys: &KeyRing,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let mut uuid = |field: &str, value: &str, why: &str| {
            Uuid::parse_str(value)
                .map_err(|_| violations.push(FieldViolation::new(field, why)))
                .ok()
        };
        let request_id = uuid(
            "request_id",
            &request.request_id,
            "must be a UUID chosen once per correction",
        );
        let case_id = uuid("case_id", &request.case_id, "must be a UUID");
        let reason = reveal::parse_reason(&request.reason)
            .map_err(|_| {
                violations.push(FieldViolation::new(
                    "reason",
                    "say why, in at most 500 characters (kept with the correction)",
                ))
            })
            .ok();
        let mut values = Vec::new();
        let mut check =
            |field: Field, value: Option<&String>, parsed: fn(&str) -> Result<String, String>| {
                if let Some(value) = value {
                    match parsed(value) {
                        Ok(value) => values.push((field, value)),
                        Err(why) => violations.push(FieldViolation::new(field.name(), why)),
                    }
                }
            };
        check(Field::TerritoryCode, request.territory_code.as_ref(), |v| {
            DirectoryCode::parse(v)
                .map(|code| code.as_str().to_owned())
                .map_err(|why| why.to_string())
        });
        check(
            Field::MatterCategory,
            request.matter_category.as_ref(),
            |v| {
                DirectoryCode::parse(v)
                    .map(|code| code.as_str().to_owned())
                    .map_err(|why| why.to_string())
            },
        );
        check(Field::Title, request.title.as_ref(), |v| {
            text(v, MAX_TITLE_CHARS, false).map_err(str::to_owned)
        });
        check(Field::Content, request.content.as_ref(), |v| {
            text(v, MAX_CONTENT_CHARS, true).map_err(str::to_owned)
        });
        let asked = [
            &request.territory_code,
            &request.matter_category,
            &request.title,
            &request.content,
        ];
        if asked.iter().all(|value| value.is_none()) {
            violations.push(FieldViolation::new(
                "territory_code",
                "give at least one field to correct: territory_code, matter_category, title or content",
            ));
        }
        let mut unnamed = request.clone();
        unnamed.request_id.clear();
        let fingerprint = keys.keyed_digest("petition-correction", &unnamed.encode_to_vec());
        match (request_id, case_id, reason) {
            (Some(request_id), Some(case_id), Some(reason)) if violations.is_empty() => Ok(Self {
                request_id,
                case_id,
                reason,
                values,
                fingerprint,
            }),
            _ => Err(violations),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CorrectionError {
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("no petition with case id {0}")]
    NotFound(Uuid),
    #[error("request id {0} was already used for a different correction")]
    RequestIdReused(Uuid),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// What each given field changes: the fields whose value differs from the registered one.
pub fn changes(row: &petition::Model, values: &[(Field, String)]) -> Vec<(Field, FieldChange)> {
    values
        .iter()
        .filter(|(field, value)| field.current(row) != value)
        .map(|(field, value)| {
            (
                *field,
                FieldChange {
                    field: field.name().to_owned(),
                    before: field.current(row).to_owned(),
                    after: value.clone(),
                },
            )
        })
        .collect()
}

pub struct CorrectPetition {
    pub authorized: Authorized,
    pub correction: Correction,
}

pub struct Loaded {
    petition: Option<petition::Model>,
    earlier: Option<petition_correction::Model>,
    corrections: u64,
}

pub enum Corrected {
    Done {
        petition: Box<petition::Model>,
        record: petition_correction::Model,
    },
    /// A retry of a correction made before: the petition as it stands.
    Repeat(Box<petition::Model>),
}

impl Change for CorrectPetition {
    type State = Loaded;
    type Outcome = Corrected;
    type Error = CorrectionError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Loaded, CorrectionError> {
        let case_id = self.correction.case_id;
        // Locked, so that two corrections of one case take their revisions in turn.
        let petition = petition::Entity::find_by_id(case_id)
            .lock_exclusive()
            .one(transaction)
            .await?;
        let earlier = petition_correction::Entity::find_by_id(self.correction.request_id)
            .one(transaction)
            .await?;
        let corrections = petition_correction::Entity::find()
            .filter(petition_correction::Column::CaseId.eq(case_id))
            .count(transaction)
            .await?;
        Ok(Loaded {
            petition,
            earlier,
            corrections,
        })
    }

    fn decide(
        &self,
        loaded: Loaded,
        now: OffsetDateTime,
    ) -> Result<Decided<Corrected>, CorrectionError> {
        let correction = &self.correction;
        let mut row = loaded
            .petition
            .ok_or(CorrectionError::NotFound(correction.case_id))?;
        if let Some(earlier) = loaded.earlier {
            return if earlier.fingerprint == correction.fingerprint
                && earlier.case_id == row.case_id
            {
                Ok(Decided::quietly(Corrected::Repeat(Box::new(row))))
            } else {
                Err(CorrectionError::RequestIdReused(correction.request_id))
            };
        }
        let changed = changes(&row, &correction.values);
        if changed.is_empty() {
            return Err(CorrectionError::InvalidArgument(
                correction
                    .values
                    .iter()
                    .map(|(field, _)| {
                        FieldViolation::new(
                            field.name(),
                            "is what is registered already: nothing to correct",
                        )
                    })
                    .collect(),
            ));
        }
        for (field, change) in &changed {
            field.set(&mut row, change.after.clone());
        }
        let revision = i32::try_from(loaded.corrections + 1).unwrap_or(i32::MAX);
        let fields: Vec<FieldChange> = changed.into_iter().map(|(_, change)| change).collect();
        let event = OutgoingEvent::new(
            subjects::PETITION_CORRECTED,
            SERVICE,
            row.case_id,
            now,
            &PetitionCorrected {
                case_id: row.case_id.to_string(),
                case_number: row.case_number.clone(),
                revision: u32::try_from(revision).unwrap_or_default(),
                territory_code: row.territory_code.clone(),
                matter_category: row.matter_category.clone(),
                corrected_fields: fields.iter().map(|f| f.field.clone()).collect(),
                corrected_at: Some(wire::timestamp(now)),
            },
        );
        let record = petition_correction::Model {
            request_id: correction.request_id,
            fingerprint: correction.fingerprint.clone(),
            case_id: row.case_id,
            revision,
            corrected_at: now,
            corrected_by: self.authorized.caller.subject.clone(),
            reason: correction.reason.clone(),
            // A list of plain strings always serialises.
            fields: serde_json::to_string(&fields).unwrap_or_default(),
        };
        Ok(Decided {
            outcome: Corrected::Done {
                petition: Box::new(row),
                record,
            },
            events: vec![event],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        corrected: &Corrected,
    ) -> Result<(), CorrectionError> {
        let Corrected::Done { petition, record } = corrected else {
            return Ok(());
        };
        let mut row = petition.as_ref().clone().into_active_model();
        row.territory_code = Set(petition.territory_code.clone());
        row.matter_category = Set(petition.matter_category.clone());
        row.title = Set(petition.title.clone());
        row.content = Set(petition.content.clone());
        row.update(transaction).await?;
        petition_correction::Entity::insert(petition_correction::ActiveModel::from(record.clone()))
            .exec_without_returning(transaction)
            .await?;
        // A final matter is recognised again (Art 36) by what it is now said to be.
        final_matter::Entity::update_many()
            .col_expr(
                final_matter::Column::MatterCategory,
                Expr::value(petition.matter_category.clone()),
            )
            .col_expr(
                final_matter::Column::TerritoryCode,
                Expr::value(petition.territory_code.clone()),
            )
            .filter(final_matter::Column::CaseId.eq(petition.case_id))
            .exec(transaction)
            .await?;
        let names: Vec<String> = serde_json::from_str::<Vec<FieldChange>>(&record.fields)
            .unwrap_or_default()
            .into_iter()
            .map(|change| change.field)
            .collect();
        self.authorized
            .audit_in(
                transaction,
                Some(record.case_id),
                &format!("corrected {}: {}", names.join(", "), record.reason),
            )
            .await?;
        Ok(())
    }
}

/// A correction as the API shows it.
pub fn view(record: &petition_correction::Model) -> api::PetitionCorrection {
    api::PetitionCorrection {
        corrected_at: Some(wire::timestamp(record.corrected_at)),
        corrected_by: record.corrected_by.clone(),
        reason: record.reason.clone(),
        fields: serde_json::from_str::<Vec<FieldChange>>(&record.fields)
            .unwrap_or_default()
            .into_iter()
            .map(|change| api::CorrectedField {
                field: change.field,
                before: change.before,
                after: change.after,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered() -> petition::Model {
        let at = time::macros::datetime!(2026-03-02 09:00 UTC);
        petition::Model {
            case_id: Uuid::nil(),
            case_number: "610481-2026-000001".into(),
            request_id: Uuid::nil(),
            request_fingerprint: Vec::new(),
            channel: "visit".into(),
            source_level: "local".into(),
            upstream_reference: None,
            upstream_disposition: None,
            upstream_deadline: None,
            received_at: at,
            registered_at: at,
            anonymous: false,
            people_count: 1,
            collective: false,
            territory_code: "zhaocun".into(),
            matter_category: "housing".into(),
            title: "房屋漏水".into(),
            content: "房屋漏水，请求维修。".into(),
            accused_unit_code: None,
            query_code_hash: None,
            repeat_of_case_id: None,
            repeat_of_case_number: None,
            skip_level: false,
            first_time: true,
            collective_matter_case_id: None,
            collective_matter_case_number: None,
            registered_at_unit: None,
            visit_batch: None,
            representative_count: 0,
            escalated_to: None,
            proposed_case_id: None,
            proposed_case_number: None,
            proposal_reason: None,
            linked_to_case_id: None,
            linked_to_case_number: None,
            linked_at: None,
        }
    }

    #[test]
    fn only_fields_that_differ_are_corrections() {
        let changed = changes(
            &registered(),
            &[
                (Field::TerritoryCode, "zhaocun".into()),
                (Field::MatterCategory, "land-acquisition".into()),
            ],
        );
        assert_eq!(
            changed.into_iter().map(|(_, c)| c).collect::<Vec<_>>(),
            [FieldChange {
                field: "matter_category".into(),
                before: "housing".into(),
                after: "land-acquisition".into(),
            }]
        );
    }
}
