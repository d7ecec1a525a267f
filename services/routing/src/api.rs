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
    pub directory: Arc<Directory>,
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
        }
    }
}

fn parse_case_id(text: &str) -> Result<Uuid, QueryError> {
    Uuid::parse_str(text).map_err(|_| FieldViolation::new("case_id", "must be a UUID").into())
}
