//! The watch list — key persons (重点人员) and key groups (重点群体), each owned by a leader and
//! a responsible unit, referring to petitioners by intake's id (no identity is copied here)
//! and to the cases they concern — and on-site inspections (督查) of units. Each change is
//! an event, so the figures can count them.

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use time::OffsetDateTime;
use tonic::Status;
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, Scope};
use xinfang_platform::grpc::{self, FieldViolation, QueryError, invalid_argument, next_page};
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided, WritePath};
use xinfang_proto::codes::DirectoryCode;
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{self as api, InspectionRecorded, WatchListChanged};

use crate::deadlines::start_day;
use crate::routed::SERVICE;
use crate::store::{inspection, watch_case, watch_entry};

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl From<WatchError> for Status {
    fn from(error: WatchError) -> Self {
        match error {
            WatchError::NotFound(what) => Status::not_found(what),
            WatchError::AlreadyExists(why) => Status::already_exists(why),
            WatchError::Database(error) => {
                tracing::error!(error = %error, "database error");
                Status::unavailable("could not be recorded now; retry with the same request_id")
            }
        }
    }
}

fn kind_code(value: i32) -> Option<&'static str> {
    match api::WatchKind::try_from(value).ok()? {
        api::WatchKind::KeyPerson => Some("key-person"),
        api::WatchKind::KeyGroup => Some("key-group"),
        api::WatchKind::Unspecified => None,
    }
}

fn kind_of(code: &str) -> api::WatchKind {
    match code {
        "key-person" => api::WatchKind::KeyPerson,
        "key-group" => api::WatchKind::KeyGroup,
        _ => api::WatchKind::Unspecified,
    }
}

/// The case ids a record names, as ids.
fn case_uuids(json: &str) -> Vec<Uuid> {
    ids(json)
        .iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect()
}

fn ids(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

pub fn entry_view(row: &watch_entry::Model) -> api::WatchEntry {
    api::WatchEntry {
        id: row.id.to_string(),
        kind: kind_of(&row.kind).into(),
        group_name: row.group_name.clone(),
        petitioner_ids: ids(&row.petitioner_ids),
        case_ids: ids(&row.case_ids),
        reason: row.reason.clone(),
        leader: row.leader.clone(),
        responsible_unit: row.responsible_unit.clone(),
        added_at: Some(wire::timestamp(row.added_at)),
        added_by: row.added_by.clone(),
        removed_at: row.removed_at.map(wire::timestamp),
        removal_reason: row.removal_reason.clone(),
    }
}

/// An entry as its event carries it: who owns it and what it concerns, by reference; the
/// reasons are free text, read over gRPC.
fn announced(row: &watch_entry::Model) -> api::WatchEntry {
    api::WatchEntry {
        reason: String::new(),
        removal_reason: String::new(),
        ..entry_view(row)
    }
}

fn inspection_view(row: &inspection::Model) -> api::Inspection {
    api::Inspection {
        id: row.id.to_string(),
        unit_code: row.unit_code.clone(),
        inspected_on: Some(wire::calendar_date(row.inspected_on)),
        findings: row.findings.clone(),
        case_ids: ids(&row.case_ids),
        recorded_by: row.recorded_by.clone(),
        recorded_at: Some(wire::timestamp(row.recorded_at)),
    }
}

/// UUIDs of a repeated field, every one checked, each once.
fn uuids(field: &str, values: &[String], violations: &mut Vec<FieldViolation>) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = values
        .iter()
        .enumerate()
        .filter_map(|(index, value)| {
            Uuid::parse_str(value)
                .map_err(|_| {
                    violations.push(FieldViolation::new(
                        format!("{field}[{index}]"),
                        "must be a UUID",
                    ))
                })
                .ok()
        })
        .collect();
    // Each once: a repeated id is the same case, not a second row.
    ids.sort();
    ids.dedup();
    ids
}

fn unit(field: &str, value: &str, violations: &mut Vec<FieldViolation>) -> String {
    match DirectoryCode::parse(value) {
        Ok(_) => value.to_owned(),
        Err(why) => {
            violations.push(FieldViolation::new(field, format!("{value:?} {why}")));
            String::new()
        }
    }
}

fn json(values: &[Uuid]) -> String {
    serde_json::to_string(&values.iter().map(Uuid::to_string).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".to_owned())
}

struct AddEntry {
    row: watch_entry::Model,
    cases: Vec<Uuid>,
    authorized: Authorized,
}

impl Change for AddEntry {
    type State = Option<watch_entry::Model>;
    type Outcome = (watch_entry::Model, bool);
    type Error = WatchError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, WatchError> {
        Ok(watch_entry::Entity::find()
            .filter(watch_entry::Column::RequestId.eq(self.row.request_id))
            .one(transaction)
            .await?)
    }

    fn decide(
        &self,
        earlier: Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, WatchError> {
        if let Some(earlier) = earlier {
            return Ok(Decided::quietly((earlier, false)));
        }
        let row = watch_entry::Model {
            added_at: now,
            ..self.row.clone()
        };
        let event = OutgoingEvent::new(
            subjects::watch_list_changed(&row.responsible_unit, "added"),
            SERVICE,
            Uuid::nil(),
            now,
            &WatchListChanged {
                entry: Some(announced(&row)),
            },
        );
        Ok(Decided {
            outcome: (row, true),
            events: vec![event],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (row, new): &Self::Outcome,
    ) -> Result<(), WatchError> {
        if !new {
            return Ok(());
        }
        watch_entry::Entity::insert(watch_entry::ActiveModel::from(row.clone()))
            .exec_without_returning(transaction)
            .await?;
        if !self.cases.is_empty() {
            watch_case::Entity::insert_many(self.cases.iter().map(|case_id| {
                watch_case::ActiveModel::from(watch_case::Model {
                    entry_id: row.id,
                    case_id: *case_id,
                })
            }))
            .exec_without_returning(transaction)
            .await?;
        }
        self.authorized
            .audit_in(transaction, None, &format!("watch list: added {}", row.id))
            .await?;
        Ok(())
    }
}

struct RemoveEntry {
    id: Uuid,
    reason: String,
    authorized: Authorized,
}

impl Change for RemoveEntry {
    type State = Option<watch_entry::Model>;
    type Outcome = (watch_entry::Model, bool);
    type Error = WatchError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, WatchError> {
        Ok(watch_entry::Entity::find_by_id(self.id)
            .one(transaction)
            .await?)
    }

    fn decide(
        &self,
        found: Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, WatchError> {
        let found =
            found.ok_or_else(|| WatchError::NotFound(format!("no watch entry {}", self.id)))?;
        if found.removed_at.is_some() {
            return Ok(Decided::quietly((found, false)));
        }
        let row = watch_entry::Model {
            removed_at: Some(now),
            removal_reason: self.reason.clone(),
            ..found
        };
        let event = OutgoingEvent::new(
            subjects::watch_list_changed(&row.responsible_unit, "removed"),
            SERVICE,
            Uuid::nil(),
            now,
            &WatchListChanged {
                entry: Some(announced(&row)),
            },
        );
        Ok(Decided {
            outcome: (row, true),
            events: vec![event],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (row, changed): &Self::Outcome,
    ) -> Result<(), WatchError> {
        if !changed {
            return Ok(());
        }
        row.clone()
            .into_active_model()
            .reset_all()
            .update(transaction)
            .await?;
        watch_case::Entity::delete_many()
            .filter(watch_case::Column::EntryId.eq(row.id))
            .exec(transaction)
            .await?;
        self.authorized
            .audit_in(
                transaction,
                None,
                &format!("watch list: removed {}", row.id),
            )
            .await?;
        Ok(())
    }
}

struct AddInspection {
    row: inspection::Model,
    authorized: Authorized,
}

impl Change for AddInspection {
    type State = Option<inspection::Model>;
    type Outcome = (inspection::Model, bool);
    type Error = WatchError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, WatchError> {
        Ok(inspection::Entity::find()
            .filter(inspection::Column::RequestId.eq(self.row.request_id))
            .one(transaction)
            .await?)
    }

    fn decide(
        &self,
        earlier: Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, WatchError> {
        if let Some(earlier) = earlier {
            return Ok(Decided::quietly((earlier, false)));
        }
        let row = inspection::Model {
            recorded_at: now,
            ..self.row.clone()
        };
        let event = OutgoingEvent::new(
            subjects::inspection_recorded(&row.unit_code),
            SERVICE,
            Uuid::nil(),
            now,
            &InspectionRecorded {
                // The findings are free text: read over gRPC, not carried.
                inspection: Some(api::Inspection {
                    findings: String::new(),
                    ..inspection_view(&row)
                }),
            },
        );
        Ok(Decided {
            outcome: (row, true),
            events: vec![event],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (row, new): &Self::Outcome,
    ) -> Result<(), WatchError> {
        if !new {
            return Ok(());
        }
        inspection::Entity::insert(inspection::ActiveModel::from(row.clone()))
            .exec_without_returning(transaction)
            .await?;
        self.authorized
            .audit_in(
                transaction,
                None,
                &format!("inspection of {}", row.unit_code),
            )
            .await?;
        Ok(())
    }
}

pub async fn add(
    write: &WritePath,
    authorized: Authorized,
    request: &api::AddToWatchListRequest,
) -> Result<api::WatchEntry, Status> {
    let mut violations = Vec::new();
    let request_id = Uuid::parse_str(&request.request_id)
        .map_err(|_| violations.push(FieldViolation::new("request_id", "must be a UUID")))
        .ok();
    let kind = kind_code(request.kind);
    if kind.is_none() {
        violations.push(FieldViolation::new(
            "kind",
            "is required: key person or key group",
        ));
    }
    let petitioners = uuids("petitioner_ids", &request.petitioner_ids, &mut violations);
    let cases = uuids("case_ids", &request.case_ids, &mut violations);
    match kind {
        Some("key-person") if petitioners.len() != 1 => violations.push(FieldViolation::new(
            "petitioner_ids",
            "a key person is one petitioner: exactly one id",
        )),
        Some("key-group") if request.group_name.trim().is_empty() => {
            violations.push(FieldViolation::new(
                "group_name",
                "is required for a key group",
            ));
        }
        _ => {}
    }
    if request.leader.trim().is_empty() {
        violations.push(FieldViolation::new(
            "leader",
            "is required: every entry is owned by a leader",
        ));
    }
    let responsible_unit = unit(
        "responsible_unit",
        &request.responsible_unit,
        &mut violations,
    );
    let (Some(request_id), Some(kind)) = (request_id, kind) else {
        return Err(invalid_argument(&violations));
    };
    if !violations.is_empty() {
        return Err(invalid_argument(&violations));
    }
    let row = watch_entry::Model {
        id: Uuid::now_v7(),
        request_id,
        kind: kind.to_owned(),
        group_name: request.group_name.trim().to_owned(),
        petitioner_ids: json(&petitioners),
        case_ids: json(&cases),
        reason: request.reason.trim().to_owned(),
        leader: request.leader.trim().to_owned(),
        responsible_unit,
        added_at: write.clock.now(),
        added_by: authorized.caller.subject.clone(),
        removed_at: None,
        removal_reason: String::new(),
    };
    let (row, _) = write
        .execute(AddEntry {
            row,
            cases,
            authorized,
        })
        .await?;
    Ok(entry_view(&row))
}

pub async fn remove(
    write: &WritePath,
    authorized: Authorized,
    request: &api::RemoveFromWatchListRequest,
) -> Result<api::WatchEntry, Status> {
    let id = Uuid::parse_str(&request.id)
        .map_err(|_| invalid_argument(&[FieldViolation::new("id", "must be a UUID")]))?;
    if request.reason.trim().is_empty() {
        return Err(invalid_argument(&[FieldViolation::new(
            "reason",
            "is required",
        )]));
    }
    let (row, _) = write
        .execute(RemoveEntry {
            id,
            reason: request.reason.trim().to_owned(),
            authorized,
        })
        .await?;
    Ok(entry_view(&row))
}

pub async fn list(
    write: &WritePath,
    authorized: Authorized,
    request: &api::ListWatchListRequest,
) -> Result<api::ListWatchListResponse, Status> {
    let page_size = grpc::page_size(request.page_size).map_err(QueryError::from)?;
    let after: Option<Uuid> =
        grpc::parse_page_token(&request.page_token).map_err(QueryError::from)?;
    let mut query = watch_entry::Entity::find().order_by_asc(watch_entry::Column::Id);
    if let Some(kind) = kind_code(request.kind) {
        query = query.filter(watch_entry::Column::Kind.eq(kind));
    }
    if !request.leader.is_empty() {
        query = query.filter(watch_entry::Column::Leader.eq(request.leader.clone()));
    }
    if !request.responsible_unit.is_empty() {
        query =
            query.filter(watch_entry::Column::ResponsibleUnit.eq(request.responsible_unit.clone()));
    }
    if !request.include_removed {
        query = query.filter(watch_entry::Column::RemovedAt.is_null());
    }
    if authorized.scope == Scope::OwnUnits {
        query = query
            .filter(watch_entry::Column::ResponsibleUnit.is_in(authorized.caller.units.clone()));
    }
    if let Some(after) = after {
        query = query.filter(watch_entry::Column::Id.gt(after));
    }
    let mut rows = query
        .limit(page_size + 1)
        .all(&write.db)
        .await
        .map_err(QueryError::from)?;
    let next_page_token = next_page(&mut rows, page_size, |row| row.id.to_string());
    // Not the entries about a case or unit the caller declared an interest in (Art 28).
    let recusals = authorized.recusals().await?;
    rows.retain(|row| !recusals.excludes_record(&case_uuids(&row.case_ids), &row.responsible_unit));
    authorized
        .audit(None, true, &format!("listed {} watch entries", rows.len()))
        .await?;
    Ok(api::ListWatchListResponse {
        entries: rows.iter().map(entry_view).collect(),
        next_page_token,
    })
}

pub async fn record_inspection(
    write: &WritePath,
    authorized: Authorized,
    request: &api::RecordInspectionRequest,
) -> Result<api::Inspection, Status> {
    let mut violations = Vec::new();
    let request_id = Uuid::parse_str(&request.request_id)
        .map_err(|_| violations.push(FieldViolation::new("request_id", "must be a UUID")))
        .ok();
    let unit_code = unit("unit_code", &request.unit_code, &mut violations);
    let cases = uuids("case_ids", &request.case_ids, &mut violations);
    let today = start_day(write.clock.now());
    let inspected_on = match request.inspected_on.as_ref() {
        None => Some(today),
        Some(day) => match wire::from_calendar_date(day) {
            Ok(day) if day > today => {
                violations.push(FieldViolation::new(
                    "inspected_on",
                    format!("{day} is in the future"),
                ));
                None
            }
            Ok(day) => Some(day),
            Err(why) => {
                violations.push(FieldViolation::new("inspected_on", why));
                None
            }
        },
    };
    if request.findings.trim().is_empty() {
        violations.push(FieldViolation::new("findings", "is required"));
    }
    let (Some(request_id), Some(inspected_on)) = (request_id, inspected_on) else {
        return Err(invalid_argument(&violations));
    };
    if !violations.is_empty() {
        return Err(invalid_argument(&violations));
    }
    let row = inspection::Model {
        id: Uuid::now_v7(),
        request_id,
        unit_code,
        inspected_on,
        findings: request.findings.trim().to_owned(),
        case_ids: json(&cases),
        recorded_by: authorized.caller.subject.clone(),
        recorded_at: write.clock.now(),
    };
    let (row, _) = write.execute(AddInspection { row, authorized }).await?;
    Ok(inspection_view(&row))
}

pub async fn list_inspections(
    write: &WritePath,
    authorized: Authorized,
    request: &api::ListInspectionsRequest,
) -> Result<api::ListInspectionsResponse, Status> {
    let page_size = grpc::page_size(request.page_size).map_err(QueryError::from)?;
    let after: Option<Uuid> =
        grpc::parse_page_token(&request.page_token).map_err(QueryError::from)?;
    let mut query = inspection::Entity::find().order_by_asc(inspection::Column::Id);
    if !request.unit_code.is_empty() {
        query = query.filter(inspection::Column::UnitCode.eq(request.unit_code.clone()));
    }
    if authorized.scope == Scope::OwnUnits {
        query = query.filter(inspection::Column::UnitCode.is_in(authorized.caller.units.clone()));
    }
    if let Some(after) = after {
        query = query.filter(inspection::Column::Id.gt(after));
    }
    let mut rows = query
        .limit(page_size + 1)
        .all(&write.db)
        .await
        .map_err(QueryError::from)?;
    let next_page_token = next_page(&mut rows, page_size, |row| row.id.to_string());
    let recusals = authorized.recusals().await?;
    rows.retain(|row| !recusals.excludes_record(&case_uuids(&row.case_ids), &row.unit_code));
    authorized
        .audit(None, true, &format!("listed {} inspections", rows.len()))
        .await?;
    Ok(api::ListInspectionsResponse {
        inspections: rows.iter().map(inspection_view).collect(),
        next_page_token,
    })
}

/// The cases of entries on the watch list now: the worklist's `watched` filter.
pub fn watched_cases() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(watch_case::Column::CaseId)
        .from(watch_case::Entity)
        .to_owned()
}
