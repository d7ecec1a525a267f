//! The gRPC face of supervision: each case's timeline and deadlines.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tonic::{Request, Response, Status};
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, Found, Scope, unit_path_of, within_units};
use xinfang_platform::grpc::{self, FieldViolation, QueryError, next_page};
use xinfang_platform::wire;
use xinfang_proto::supervision::v1::{self as api, supervision_service_server::SupervisionService};
use xinfang_proto::v1 as proto;

use crate::store::{deadline, timeline};
use crate::timeline::{DeadlineKind, Disposition, LegalTrack};

fn no_timeline(case: Uuid) -> QueryError {
    QueryError::NotFound(format!(
        "no timeline for case {case} (not registered, or not routed yet)"
    ))
}

pub struct SupervisionApi {
    pub db: DatabaseConnection,
}

#[tonic::async_trait]
impl SupervisionService for SupervisionApi {
    async fn get_case_timeline(
        &self,
        request: Request<api::GetCaseTimelineRequest>,
    ) -> Result<Response<proto::CaseTimeline>, Status> {
        let authorized = Authorized::of(&request)?;
        let case_id = Uuid::parse_str(&request.into_inner().case_id)
            .map_err(|_| QueryError::from(FieldViolation::new("case_id", "must be a UUID")))?;
        let found = timeline::Entity::find_by_id(case_id)
            .find_with_related(deadline::Entity)
            .all(&self.db)
            .await
            .map_err(QueryError::from)?
            .into_iter()
            .next();
        let found = found.map(|(row, deadlines)| Found {
            case_id: row.case_id,
            unit_path: Some(unit_path_of(&row.unit_path)),
            value: (row, deadlines),
        });
        let (row, deadlines) = authorized
            .reveal(found, Some(case_id), || no_timeline(case_id).into())
            .await?;
        Ok(Response::new(view(&row, &deadlines)))
    }

    async fn list_case_timelines(
        &self,
        request: Request<api::ListCaseTimelinesRequest>,
    ) -> Result<Response<api::ListCaseTimelinesResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        let request = request.into_inner();
        let page_size = grpc::page_size(request.page_size).map_err(QueryError::from)?;
        let after: Option<Uuid> =
            grpc::parse_page_token(&request.page_token).map_err(QueryError::from)?;
        let mut query = timeline::Entity::find().order_by_asc(timeline::Column::CaseId);
        if !request.unit_code.is_empty() {
            query = query.filter(timeline::Column::UnitCode.eq(request.unit_code));
        }
        if let Some(after) = after {
            query = query.filter(timeline::Column::CaseId.gt(after));
        }
        if authorized.scope == Scope::OwnUnits {
            query = query.filter(within_units(
                timeline::Column::UnitPath,
                &authorized.caller.units,
            ));
        }
        let mut rows = query
            .limit(page_size + 1)
            .all(&self.db)
            .await
            .map_err(QueryError::from)?;
        let next_page_token = next_page(&mut rows, page_size, |row| row.case_id.to_string());
        let mut deadlines: HashMap<Uuid, Vec<deadline::Model>> = HashMap::new();
        for row in deadline::Entity::find()
            .filter(deadline::Column::CaseId.is_in(rows.iter().map(|row| row.case_id)))
            .all(&self.db)
            .await
            .map_err(QueryError::from)?
        {
            deadlines.entry(row.case_id).or_default().push(row);
        }
        let timelines = rows
            .iter()
            .map(|row| {
                view(
                    row,
                    deadlines
                        .get(&row.case_id)
                        .map(Vec::as_slice)
                        .unwrap_or_default(),
                )
            })
            .collect();
        authorized
            .audit(None, true, &format!("listed {} case(s)", rows.len()))
            .await?;
        Ok(Response::new(api::ListCaseTimelinesResponse {
            timelines,
            next_page_token,
        }))
    }
}

fn view(row: &timeline::Model, deadlines: &[deadline::Model]) -> proto::CaseTimeline {
    let mut deadlines: Vec<proto::Deadline> = deadlines
        .iter()
        .map(|d| proto::Deadline {
            kind: DeadlineKind::from_code(&d.kind)
                .map(|kind| kind.to_proto().into())
                .unwrap_or_default(),
            start: Some(wire::calendar_date(d.start_day)),
            due: Some(wire::calendar_date(d.due_day)),
            provisional: d.provisional,
        })
        .collect();
    deadlines.sort_by_key(|d| d.kind);
    proto::CaseTimeline {
        case_id: row.case_id.to_string(),
        case_number: row.case_number.clone(),
        unit_code: row.unit_code.clone(),
        disposition: Disposition::from_code(&row.disposition)
            .map(|d| d.to_proto().into())
            .unwrap_or_default(),
        // Unclassified (held for triage) is the unset value.
        track: LegalTrack::from_code(&row.track)
            .map(|t| t.to_proto().into())
            .unwrap_or_default(),
        received_at: Some(wire::timestamp(row.received_at)),
        routed_at: Some(wire::timestamp(row.routed_at)),
        opened_at: Some(wire::timestamp(row.opened_at)),
        deadlines,
        unit_path: unit_path_of(&row.unit_path),
    }
}
