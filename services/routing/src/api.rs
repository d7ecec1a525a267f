//! The gRPC face of routing: its decisions, and the directory it routes by with the
//! administrator's changes to it.

use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, Found, Scope, unit_path_of, within_units};
use xinfang_platform::grpc::{self, FieldViolation, QueryError, next_page};
use xinfang_platform::wire;
use xinfang_proto::routing::v1::{self as api, routing_service_server::RoutingService};
use xinfang_proto::v1 as proto;

use xinfang_platform::write::WritePath;

use crate::administer::{ChangeUnits, UnitChange};
use crate::by_hand::RouteByHand;
use crate::category_tables::PublishTable;
use crate::directory::{Directory, Handler, LegalTrack};
use crate::procedure::Procedure;
use crate::requests;
use crate::rules::Disposition;
use crate::store::{category_table, decision, linked_case};
use crate::versions::DirectoryVersions;

fn no_decision(case: Uuid) -> QueryError {
    QueryError::NotFound(format!(
        "no routing decision for case {case} (not registered, or not routed yet)"
    ))
}

pub struct RoutingApi {
    pub db: DatabaseConnection,
    pub write: WritePath,
    pub versions: DirectoryVersions,
    pub assignment_days: u16,
    pub procedure: Procedure,
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
        let directory = self.versions.in_effect(&self.db).await?;
        Ok(Response::new(view(&row, &directory)))
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
        // Not a case the caller declared an interest in (Art 28), left out before the page
        // is cut so that no page or token reveals one.
        let recusals = authorized.recusals().await?;
        if !recusals.is_empty() {
            query = query
                .filter(recusals.exclusion(decision::Column::CaseId, decision::Column::UnitPath));
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
        let directory = self.versions.in_effect(&self.db).await?;
        Ok(Response::new(api::ListRoutingDecisionsResponse {
            decisions: rows.iter().map(|row| view(row, &directory)).collect(),
            next_page_token,
        }))
    }

    async fn list_categories(
        &self,
        _request: Request<api::ListCategoriesRequest>,
    ) -> Result<Response<api::ListCategoriesResponse>, Status> {
        let directory = self.versions.in_effect(&self.db).await?;
        let categories = directory
            .categories()
            .into_iter()
            .map(|category| proto::MatterCategory {
                code: category.code.to_string(),
                name: category.name.clone(),
                track: category.track.to_proto().into(),
                handled_by: match &category.handled_by {
                    Handler::Unit(unit) => unit.to_string(),
                    Handler::Territory => String::new(),
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
            version: directory.version.clone(),
            effective_at: directory.table_effective_at.map(wire::timestamp),
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
        // A petition linked into another case is handled there: nothing left to route.
        let mut query = decision::Entity::find()
            .filter(
                Condition::any()
                    .add(decision::Column::Disposition.eq(Disposition::Triage.code()))
                    .add(decision::Column::ReviewReason.is_not_null()),
            )
            .filter(
                decision::Column::CaseId.not_in_subquery(
                    Query::select()
                        .column(linked_case::Column::CaseId)
                        .from(linked_case::Entity)
                        .to_owned(),
                ),
            )
            .order_by_asc(decision::Column::CaseId);
        if let Some(after) = after {
            query = query.filter(decision::Column::CaseId.gt(after));
        }
        let recusals = authorized.recusals().await?;
        if !recusals.is_empty() {
            query = query
                .filter(recusals.exclusion(decision::Column::CaseId, decision::Column::UnitPath));
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
        let directory = self.versions.in_effect(&self.db).await?;
        Ok(Response::new(api::ListRoutingDecisionsResponse {
            decisions: rows.iter().map(|row| view(row, &directory)).collect(),
            next_page_token,
        }))
    }

    async fn route_case(
        &self,
        request: Request<api::RouteCaseRequest>,
    ) -> Result<Response<proto::RoutingDecision>, Status> {
        let authorized = Authorized::of(&request)?;
        let today = wire::china_date(self.write.clock.now());
        let mut by_hand = requests::parse_by_hand(request.get_ref(), today)?;
        let case_id = by_hand.case_id;
        let current = decision::Entity::find_by_id(case_id)
            .one(&self.db)
            .await
            .map_err(QueryError::from)?;
        // A clerk with a declared interest does not route the case (Art 28), nor send it to
        // a unit they declared an interest in.
        if let Some(current) = &current {
            authorized
                .check_case(case_id, Some(&unit_path_of(&current.unit_path)))
                .await?;
            let directory = self.versions.in_effect(&self.db).await?;
            let going_to: Vec<String> = std::iter::once(&by_hand.unit_code)
                .chain(&by_hand.co_handling_units)
                .flat_map(|unit| directory.path(unit))
                .collect();
            if authorized
                .recusals()
                .await?
                .excludes(case_id, Some(&going_to))
            {
                return Err(authorized.deny(Some(case_id)).await);
            }
        }
        let held = current.is_some_and(|row| row.disposition == Disposition::Triage.code());
        if !held {
            // A routed case moves only before its unit signs for it, or on an upheld
            // objection: supervision knows which.
            by_hand.stage = Some(self.procedure.stage(case_id).await?);
        }
        self.write
            .execute(RouteByHand {
                by_hand,
                versions: self.versions.clone(),
                authorized,
                assignment_days: self.assignment_days,
            })
            .await?;
        let row = decision::Entity::find_by_id(case_id)
            .one(&self.db)
            .await
            .map_err(QueryError::from)?
            .ok_or_else(|| no_decision(case_id))?;
        let directory = self.versions.in_effect(&self.db).await?;
        Ok(Response::new(view(&row, &directory)))
    }

    async fn list_units(
        &self,
        request: Request<api::ListUnitsRequest>,
    ) -> Result<Response<api::ListUnitsResponse>, Status> {
        let request = request.into_inner();
        let page_size = grpc::page_size(request.page_size).map_err(QueryError::from)?;
        let after: Option<String> =
            grpc::parse_page_token(&request.page_token).map_err(QueryError::from)?;
        let directory = self.versions.in_effect(&self.db).await?;
        let mut units: Vec<proto::Unit> = directory
            .units()
            .filter(|unit| request.include_retired || !unit.retired)
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
            directory_version: directory.version.clone(),
        }))
    }

    async fn add_unit(
        &self,
        request: Request<api::AddUnitRequest>,
    ) -> Result<Response<api::DirectoryChanged>, Status> {
        let change = requests::parse_add_unit(request.get_ref())?;
        self.change_units(&request, change).await
    }

    async fn rename_unit(
        &self,
        request: Request<api::RenameUnitRequest>,
    ) -> Result<Response<api::DirectoryChanged>, Status> {
        let change = requests::parse_rename_unit(request.get_ref())?;
        self.change_units(&request, change).await
    }

    async fn move_unit(
        &self,
        request: Request<api::MoveUnitRequest>,
    ) -> Result<Response<api::DirectoryChanged>, Status> {
        let change = requests::parse_move_unit(request.get_ref())?;
        self.change_units(&request, change).await
    }

    async fn retire_unit(
        &self,
        request: Request<api::RetireUnitRequest>,
    ) -> Result<Response<api::DirectoryChanged>, Status> {
        let change = requests::parse_retire_unit(request.get_ref())?;
        self.change_units(&request, change).await
    }

    async fn remove_unit(
        &self,
        request: Request<api::RemoveUnitRequest>,
    ) -> Result<Response<api::DirectoryChanged>, Status> {
        let change = requests::parse_remove_unit(request.get_ref())?;
        self.change_units(&request, change).await
    }

    async fn publish_category_table(
        &self,
        request: Request<api::PublishCategoryTableRequest>,
    ) -> Result<Response<api::CategoryTable>, Status> {
        let authorized = Authorized::of(&request)?;
        let table = requests::parse_publish_table(request.get_ref())?;
        let (row, _) = self
            .write
            .execute(PublishTable {
                version: table.version,
                effective_at: table.effective_at,
                entries: table.entries,
                authorized,
            })
            .await?;
        let in_effect = self.versions.in_effect(&self.db).await?;
        Ok(Response::new(table_view(&row, &in_effect)))
    }

    async fn list_category_tables(
        &self,
        _request: Request<api::ListCategoryTablesRequest>,
    ) -> Result<Response<api::ListCategoryTablesResponse>, Status> {
        let rows = category_table::Entity::find()
            .order_by_desc(category_table::Column::EffectiveAt)
            .order_by_desc(category_table::Column::PublishedAt)
            .all(&self.db)
            .await
            .map_err(QueryError::from)?;
        let in_effect = self.versions.in_effect(&self.db).await?;
        Ok(Response::new(api::ListCategoryTablesResponse {
            tables: rows.iter().map(|row| table_view(row, &in_effect)).collect(),
        }))
    }
}

impl RoutingApi {
    async fn change_units<T>(
        &self,
        request: &Request<T>,
        (change, reason): (UnitChange, String),
    ) -> Result<Response<api::DirectoryChanged>, Status> {
        let authorized = Authorized::of(request)?;
        let code = change.code().to_owned();
        let removed = matches!(change, UnitChange::Remove { .. });
        let before = self.versions.in_effect(&self.db).await?;
        let changed = self
            .write
            .execute(ChangeUnits {
                change,
                reason,
                versions: self.versions.clone(),
                authorized,
            })
            .await?;
        let unit = if removed { &before } else { &changed.directory }
            .unit(&code)
            .map(crate::directory::Unit::to_proto);
        Ok(Response::new(api::DirectoryChanged {
            revision: changed.revision,
            version: changed.directory.version.clone(),
            unit,
        }))
    }
}

fn table_view(row: &category_table::Model, in_effect: &Directory) -> api::CategoryTable {
    api::CategoryTable {
        version: row.version.clone(),
        effective_at: Some(wire::timestamp(row.effective_at)),
        published_at: Some(wire::timestamp(row.published_at)),
        published_by: row.published_by.clone(),
        category_count: serde_json::from_str::<Vec<serde_json::Value>>(&row.entries)
            .map_or(0, |entries| {
                i32::try_from(entries.len()).unwrap_or(i32::MAX)
            }),
        in_effect: in_effect.table_version() == row.version,
    }
}

/// A decision as a reader sees it, with its unit's name as the directory now has it.
fn view(row: &decision::Model, directory: &Directory) -> proto::RoutingDecision {
    proto::RoutingDecision {
        case_id: row.case_id.to_string(),
        case_number: row.case_number.clone(),
        unit_code: row.unit_code.clone(),
        unit_name: directory
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
        previous_unit_code: row.previous_unit_code.clone().unwrap_or_default(),
        after_objection: row.after_objection,
        co_handling_units: row.co_handling(),
        review_reason: row.review_reason.clone().unwrap_or_default(),
    }
}

fn parse_case_id(text: &str) -> Result<Uuid, QueryError> {
    Uuid::parse_str(text).map_err(|_| FieldViolation::new("case_id", "must be a UUID").into())
}
