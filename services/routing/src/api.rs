//! The gRPC face of routing: its decisions and the directory it routes by.

use std::sync::Arc;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tonic::{Request, Response, Status};
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, Found, Scope, unit_path_of, within_units};
use xinfang_platform::grpc::{self, FieldViolation, QueryError, next_page};
use xinfang_platform::wire;
use xinfang_proto::routing::v1::{self as api, routing_service_server::RoutingService};
use xinfang_proto::v1 as proto;

use xinfang_platform::grpc::invalid_argument;
use xinfang_platform::write::WritePath;

use crate::by_hand::{ByHand, ByHandError, RouteByHand};
use crate::directory::{Directory, LegalTrack};
use crate::rules::Disposition;
use crate::store::decision;

fn no_decision(case: Uuid) -> QueryError {
    QueryError::NotFound(format!(
        "no routing decision for case {case} (not registered, or not routed yet)"
    ))
}

pub struct RoutingApi {
    pub db: DatabaseConnection,
    pub write: WritePath,
    pub directory: Arc<Directory>,
    pub assignment_days: u16,
}

impl From<ByHandError> for Status {
    fn from(error: ByHandError) -> Self {
        match error {
            ByHandError::InvalidArgument(violations) => invalid_argument(&violations),
            ByHandError::NotFound(what) => Status::not_found(what),
            ByHandError::FailedPrecondition(why) => Status::failed_precondition(why),
            ByHandError::Database(error) => {
                tracing::error!(error = %error, "database error");
                Status::unavailable("the case could not be routed now; retry")
            }
        }
    }
}

/// The longest reason or guidance notice a clerk writes: it travels on an event.
const MAX_TEXT_CHARS: usize = 2_000;

/// A RouteCase request, every field checked.
fn parse_by_hand(request: &api::RouteCaseRequest, today: time::Date) -> Result<ByHand, Status> {
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
        }),
        _ => Err(invalid_argument(&violations)),
    }
}

#[tonic::async_trait]
impl RoutingService for RoutingApi {
    async fn get_routing_decision(
        &self,
        request: Request<api::GetRoutingDecisionRequest>,
    ) -> Result<Response<proto::RoutingDecision>, Status> {
        let authorized = Authorized::of(&request)?;
        let case_id = parse_case_id(&request.into_inner().case_id)?;
        let found = decision::Entity::find_by_id(case_id)
            .one(&self.db)
            .await
            .map_err(QueryError::from)?;
        let found = found.map(|row| Found {
            case_id: row.case_id,
            unit_path: Some(unit_path_of(&row.unit_path)),
            value: row,
        });
        let row = authorized
            .reveal(found, Some(case_id), || no_decision(case_id).into())
            .await?;
        Ok(Response::new(self.view(&row)))
    }

    async fn list_routing_decisions(
        &self,
        request: Request<api::ListRoutingDecisionsRequest>,
    ) -> Result<Response<api::ListRoutingDecisionsResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        let request = request.into_inner();
        let page_size = grpc::page_size(request.page_size).map_err(QueryError::from)?;
        let after: Option<Uuid> =
            grpc::parse_page_token(&request.page_token).map_err(QueryError::from)?;
        let mut query = decision::Entity::find().order_by_asc(decision::Column::CaseId);
        if !request.unit_code.is_empty() {
            query = query.filter(decision::Column::UnitCode.eq(request.unit_code));
        }
        if let Some(after) = after {
            query = query.filter(decision::Column::CaseId.gt(after));
        }
        if authorized.scope == Scope::OwnUnits {
            query = query.filter(within_units(
                decision::Column::UnitPath,
                &authorized.caller.units,
            ));
        }
        let mut rows = query
            .limit(page_size + 1)
            .all(&self.db)
            .await
            .map_err(QueryError::from)?;
        let next_page_token = next_page(&mut rows, page_size, |row| row.case_id.to_string());
        authorized
            .audit(None, true, &format!("listed {} case(s)", rows.len()))
            .await?;
        Ok(Response::new(api::ListRoutingDecisionsResponse {
            decisions: rows.iter().map(|row| self.view(row)).collect(),
            next_page_token,
        }))
    }

    async fn list_categories(
        &self,
        _request: Request<api::ListCategoriesRequest>,
    ) -> Result<Response<api::ListCategoriesResponse>, Status> {
        let categories = self
            .directory
            .categories()
            .into_iter()
            .map(|category| proto::MatterCategory {
                code: category.code.to_string(),
                name: category.name.clone(),
                track: category.track.to_proto().into(),
                handled_by: match &category.handled_by {
                    crate::directory::Handler::Unit(unit) => unit.to_string(),
                    crate::directory::Handler::Territory => String::new(),
                },
                legal_basis: if category.track == LegalTrack::StatutoryChannel {
                    category.legal_basis.clone()
                } else {
                    String::new()
                },
            })
            .collect();
        Ok(Response::new(api::ListCategoriesResponse {
            categories,
            version: self.directory.version.clone(),
        }))
    }

    async fn list_triage(
        &self,
        request: Request<api::ListTriageRequest>,
    ) -> Result<Response<api::ListRoutingDecisionsResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        let request = request.into_inner();
        let page_size = grpc::page_size(request.page_size).map_err(QueryError::from)?;
        let after: Option<Uuid> =
            grpc::parse_page_token(&request.page_token).map_err(QueryError::from)?;
        let mut query = decision::Entity::find()
            .filter(decision::Column::Disposition.eq(Disposition::Triage.code()))
            .order_by_asc(decision::Column::CaseId);
        if let Some(after) = after {
            query = query.filter(decision::Column::CaseId.gt(after));
        }
        let mut rows = query
            .limit(page_size + 1)
            .all(&self.db)
            .await
            .map_err(QueryError::from)?;
        let next_page_token = next_page(&mut rows, page_size, |row| row.case_id.to_string());
        authorized
            .audit(None, true, &format!("listed {} held case(s)", rows.len()))
            .await?;
        Ok(Response::new(api::ListRoutingDecisionsResponse {
            decisions: rows.iter().map(|row| self.view(row)).collect(),
            next_page_token,
        }))
    }

    async fn route_case(
        &self,
        request: Request<api::RouteCaseRequest>,
    ) -> Result<Response<proto::RoutingDecision>, Status> {
        let authorized = Authorized::of(&request)?;
        let today = wire::china_date(self.write.clock.now());
        let by_hand = parse_by_hand(request.get_ref(), today)?;
        let case_id = by_hand.case_id;
        self.write
            .execute(RouteByHand {
                by_hand,
                directory: self.directory.clone(),
                authorized,
                assignment_days: self.assignment_days,
            })
            .await?;
        let row = decision::Entity::find_by_id(case_id)
            .one(&self.db)
            .await
            .map_err(QueryError::from)?
            .ok_or_else(|| no_decision(case_id))?;
        Ok(Response::new(self.view(&row)))
    }

    async fn list_units(
        &self,
        request: Request<api::ListUnitsRequest>,
    ) -> Result<Response<api::ListUnitsResponse>, Status> {
        let request = request.into_inner();
        let page_size = grpc::page_size(request.page_size).map_err(QueryError::from)?;
        let after: Option<String> =
            grpc::parse_page_token(&request.page_token).map_err(QueryError::from)?;
        let mut units: Vec<proto::Unit> = self
            .directory
            .units()
            .filter(|unit| {
                after
                    .as_deref()
                    .is_none_or(|after| unit.code.as_str() > after)
            })
            .take(
                usize::try_from(page_size)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1),
            )
            .map(crate::directory::Unit::to_proto)
            .collect();
        let next_page_token = next_page(&mut units, page_size, |unit| unit.code.clone());
        Ok(Response::new(api::ListUnitsResponse {
            units,
            next_page_token,
            directory_version: self.directory.version.clone(),
        }))
    }
}

impl RoutingApi {
    fn view(&self, row: &decision::Model) -> proto::RoutingDecision {
        proto::RoutingDecision {
            case_id: row.case_id.to_string(),
            case_number: row.case_number.clone(),
            unit_code: row.unit_code.clone(),
            unit_name: self
                .directory
                .unit(&row.unit_code)
                .map(|unit| unit.name.clone())
                .unwrap_or_default(),
            disposition: Disposition::from_code(&row.disposition)
                .map(|d| d.to_proto().into())
                .unwrap_or_default(),
            // Unclassified (held for triage) is the unset value.
            track: LegalTrack::from_code(&row.track)
                .map(|t| t.to_proto().into())
                .unwrap_or_default(),
            rule: row.rule.clone(),
            reason: row.reason.clone(),
            directory_version: row.directory_version.clone(),
            received_at: Some(wire::timestamp(row.received_at)),
            routed_at: Some(wire::timestamp(row.routed_at)),
            unit_path: unit_path_of(&row.unit_path),
            revision: u32::try_from(row.revision).unwrap_or_default(),
            decided_by: row.decided_by.clone(),
            guidance_notice: row.guidance_notice.clone(),
            assignment_deadline: row.assignment_deadline.map(wire::calendar_date),
        }
    }
}

fn parse_case_id(text: &str) -> Result<Uuid, QueryError> {
    Uuid::parse_str(text).map_err(|_| FieldViolation::new("case_id", "must be a UUID").into())
}
