//! The gRPC face of supervision: each case's timeline, the worklists, and the actions that
//! move a case through its procedure. One error type per call family, mapped to status
//! codes once.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, Found, Scope, lead_path, unit_path_of, within_units};
use xinfang_platform::grpc::{self, FieldViolation, QueryError, invalid_argument, next_page};
use xinfang_platform::write::WritePath;
use xinfang_proto::supervision::v1::{self as api, supervision_service_server::SupervisionService};
use xinfang_proto::v1 as proto;
use xinfang_proto::vocabulary::DeadlineKind;

use crate::action;
use crate::calendars::Calendars;
use crate::case_record::{CaseRecord, stage_code_of_proto};
use crate::deadlines::start_day;
use crate::holidays::{self, HolidaysError, LoadNotice};
use crate::letter_desk::LetterDesk;
use crate::receptions;
use crate::record::{ActionError, RecordAction};
use crate::store::holiday_notice;
use crate::store::{case, case_upstream, clock, leader_case, step};
use crate::view;
use crate::{leaders, recusals, watch};

/// The farthest a worklist looks ahead: a year and a half covers every legal clock.
const MAX_DUE_WITHIN_DAYS: u32 = 550;

fn no_case(case: Uuid) -> QueryError {
    QueryError::NotFound(format!(
        "no case {case} in supervision (not registered yet?)"
    ))
}

impl From<ActionError> for Status {
    fn from(error: ActionError) -> Self {
        match error {
            ActionError::InvalidArgument(violations) => invalid_argument(&violations),
            ActionError::NotFound(case) => Status::not_found(format!(
                "no case {case} in supervision (not registered yet?)"
            )),
            ActionError::RequestIdReused(id) => Status::already_exists(format!(
                "request_id {id} was already used for a different action; use a new request_id"
            )),
            ActionError::Refused(refusal) => Status::failed_precondition(refusal.to_string()),
            ActionError::BureauOnly(why) => Status::permission_denied(why),
            ActionError::AlreadyReported(why) => Status::failed_precondition(why),
            ActionError::Ledger(error) => {
                tracing::error!(error = %error, "ledger out of step with the lifecycle");
                Status::internal("the case's deadlines do not match its stage")
            }
            ActionError::Database(error) => {
                tracing::error!(error = %error, "database error");
                Status::unavailable(
                    "the action could not be recorded now; retry with the same request_id",
                )
            }
        }
    }
}

pub struct SupervisionApi {
    pub write: WritePath,
    pub calendars: Arc<Calendars>,
    pub bureau_code: String,
    pub letters: LetterDesk,
}

impl From<HolidaysError> for Status {
    fn from(error: HolidaysError) -> Self {
        match error {
            HolidaysError::InvalidArgument(violations) => invalid_argument(&violations),
            HolidaysError::Stored(error) => {
                tracing::error!(error = %error, "stored holiday notice unreadable");
                Status::internal("a stored holiday notice is not readable")
            }
            HolidaysError::Database(error) => {
                tracing::error!(error = %error, "database error");
                Status::unavailable("the notice could not be loaded now; retry")
            }
        }
    }
}

fn notice_view(notice: &holiday_notice::Model) -> Result<api::HolidayNotice, Status> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Day {
        name: String,
        date: String,
        is_off_day: bool,
    }
    #[derive(serde::Deserialize)]
    struct Notice {
        days: Vec<Day>,
    }
    let parsed: Notice = serde_json::from_str(&notice.days)
        .map_err(|_| Status::internal("a stored holiday notice is not readable"))?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let days = parsed
        .days
        .into_iter()
        .map(|day| {
            let date = time::Date::parse(&day.date, format)
                .map_err(|_| Status::internal("a stored holiday notice is not readable"))?;
            Ok(api::HolidayDay {
                date: Some(xinfang_platform::wire::calendar_date(date)),
                name: day.name,
                off_day: day.is_off_day,
            })
        })
        .collect::<Result<_, Status>>()?;
    Ok(api::HolidayNotice {
        year: notice.year,
        days,
        source: notice.source.clone(),
        loaded_at: Some(xinfang_platform::wire::timestamp(notice.loaded_at)),
        loaded_by: notice.loaded_by.clone(),
    })
}

impl SupervisionApi {
    fn db(&self) -> &DatabaseConnection {
        &self.write.db
    }

    async fn timeline(&self, case_id: Uuid) -> Result<Option<proto::CaseTimeline>, QueryError> {
        let Some(case) = CaseRecord::load(self.db(), case_id).await? else {
            return Ok(None);
        };
        let steps = step::Entity::find()
            .filter(step::Column::CaseId.eq(case_id))
            .order_by_asc(step::Column::RecordedAt)
            .all(self.db())
            .await?;
        let today = start_day(self.write.clock.now());
        let mut timeline = view::timeline(&case, &steps, today);
        let upstreams = case_upstream::Entity::find()
            .filter(case_upstream::Column::CaseId.eq(case_id))
            .order_by_asc(case_upstream::Column::RecordedAt)
            .all(self.db())
            .await?;
        timeline.upstreams = view::upstreams(&upstreams);
        if let Some(owned) = leader_case::Entity::find_by_id(case_id)
            .one(self.db())
            .await?
        {
            timeline.leader = owned.leader;
        }
        Ok(Some(timeline))
    }
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
        let found = self.timeline(case_id).await?.map(|timeline| Found {
            case_id,
            unit_path: (!timeline.unit_path.is_empty()).then(|| timeline.unit_path.clone()),
            value: timeline,
        });
        let timeline = authorized
            .reveal(found, Some(case_id), || no_case(case_id).into())
            .await?;
        Ok(Response::new(timeline))
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
        let today = start_day(self.write.clock.now());
        let mut query = case::Entity::find().order_by_asc(case::Column::CaseId);
        if !request.unit_code.is_empty() {
            query = query.filter(within_units(
                case::Column::UnitPath,
                std::slice::from_ref(&request.unit_code),
            ));
        }
        let stage = proto::CaseStage::try_from(request.stage).map_err(|_| {
            QueryError::from(FieldViolation::new("stage", "is not a known case stage"))
        })?;
        if let Some(code) = stage_code_of_proto(stage) {
            query = query.filter(case::Column::Stage.eq(code));
        }
        if request.overdue {
            query = query.filter(
                case::Column::CaseId.in_subquery(
                    open_duties()
                        .and_where(clock::Column::DueDay.lt(today))
                        .to_owned(),
                ),
            );
        }
        if request.due_within_days > MAX_DUE_WITHIN_DAYS {
            return Err(QueryError::from(FieldViolation::new(
                "due_within_days",
                format!("must be at most {MAX_DUE_WITHIN_DAYS}"),
            ))
            .into());
        }
        if request.due_within_days > 0 {
            let until = today + time::Duration::days(i64::from(request.due_within_days));
            query = query.filter(
                case::Column::CaseId.in_subquery(
                    open_duties()
                        .and_where(clock::Column::DueDay.gte(today))
                        .and_where(clock::Column::DueDay.lte(until))
                        .to_owned(),
                ),
            );
        }
        if request.follow_up {
            query = query.filter(case::Column::FollowUp.eq(true));
        }
        if !request.leader.is_empty() {
            query = query.filter(
                case::Column::CaseId.in_subquery(
                    Query::select()
                        .column(leader_case::Column::CaseId)
                        .from(leader_case::Entity)
                        .and_where(leader_case::Column::Leader.eq(request.leader.clone()))
                        .to_owned(),
                ),
            );
        }
        if request.watched {
            query = query.filter(case::Column::CaseId.in_subquery(watch::watched_cases()));
        }
        if let Some(after) = after {
            query = query.filter(case::Column::CaseId.gt(after));
        }
        if authorized.scope == Scope::OwnUnits {
            query = query.filter(within_units(
                case::Column::UnitPath,
                &authorized.caller.units,
            ));
        }
        // Not a case the caller declared an interest in (Art 28), left out before the page
        // is cut so that no page or token reveals one.
        let recusals = authorized.recusals().await?;
        if !recusals.is_empty() {
            query = query.filter(recusals.exclusion(case::Column::CaseId, case::Column::UnitPath));
        }
        let mut rows = query
            .limit(page_size + 1)
            .all(self.db())
            .await
            .map_err(QueryError::from)?;
        let next_page_token = next_page(&mut rows, page_size, |row| row.case_id.to_string());
        let mut clocks: HashMap<Uuid, Vec<clock::Model>> = HashMap::new();
        for row in clock::Entity::find()
            .filter(clock::Column::CaseId.is_in(rows.iter().map(|row| row.case_id)))
            .order_by_asc(clock::Column::Seq)
            .all(self.db())
            .await
            .map_err(QueryError::from)?
        {
            clocks.entry(row.case_id).or_default().push(row);
        }
        let mut timelines = Vec::with_capacity(rows.len());
        for row in rows {
            let case_clocks = clocks.remove(&row.case_id).unwrap_or_default();
            let case = CaseRecord::from_rows(row, case_clocks).map_err(QueryError::from)?;
            timelines.push(view::timeline(&case, &[], today));
        }
        authorized
            .audit(None, true, &format!("listed {} case(s)", timelines.len()))
            .await?;
        Ok(Response::new(api::ListCaseTimelinesResponse {
            timelines,
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(case))]
    async fn record_case_action(
        &self,
        request: Request<api::RecordCaseActionRequest>,
    ) -> Result<Response<proto::CaseTimeline>, Status> {
        let authorized = Authorized::of(&request)?;
        let action = action::parse(request.get_ref()).map_err(|v| invalid_argument(&v))?;
        tracing::Span::current().record("case", tracing::field::display(action.case_id));
        // Scope before existence, as every read: a unit learns nothing of others' cases.
        let unit_path = case::Entity::find_by_id(action.case_id)
            .one(self.db())
            .await
            .map_err(QueryError::from)?
            .map(|row| (unit_path_of(&row.unit_path), row.unit_code));
        // Within the caller's units, and not a case it declared an interest in (Art 28).
        // A co-handling unit reads the case but acts only through the lead.
        match &unit_path {
            Some((path, lead)) => {
                let acting = lead_path(path, lead);
                authorized
                    .check_case(action.case_id, (!acting.is_empty()).then_some(acting))
                    .await?;
            }
            None if authorized.scope == Scope::All => {
                return Err(no_case(action.case_id).into());
            }
            None => return Err(authorized.deny(Some(action.case_id)).await),
        }
        if action.bureau_only && authorized.scope != Scope::All {
            authorized
                .audit(Some(action.case_id), false, action.action)
                .await?;
            return Err(Status::permission_denied(format!(
                "{} is recorded by the bureau, not by the unit handling the case",
                action.action
            )));
        }
        let case_id = action.case_id;
        self.write
            .execute(RecordAction {
                action,
                authorized,
                calendar: self.calendars.current(),
            })
            .await?;
        let timeline = self
            .timeline(case_id)
            .await?
            .ok_or_else(|| no_case(case_id))?;
        Ok(Response::new(timeline))
    }

    async fn load_holiday_notice(
        &self,
        request: Request<api::LoadHolidayNoticeRequest>,
    ) -> Result<Response<api::LoadHolidayNoticeResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        let notice = holidays::parse(request.get_ref()).map_err(|v| invalid_argument(&v))?;
        let loaded = self
            .write
            .execute(LoadNotice {
                notice,
                authorized,
                bureau_code: self.bureau_code.clone(),
            })
            .await?;
        let calendar_version = loaded.calendar.version();
        self.calendars.replace(loaded.calendar);
        Ok(Response::new(api::LoadHolidayNoticeResponse {
            notice: Some(notice_view(&loaded.notice)?),
            calendar_version,
            deadlines_recomputed: loaded.recomputed.recomputed,
            deadlines_moved: loaded.recomputed.moved,
        }))
    }

    async fn issue_letter(
        &self,
        request: Request<api::IssueLetterRequest>,
    ) -> Result<Response<api::Letter>, Status> {
        let authorized = Authorized::of(&request)?;
        let letter = self
            .letters
            .issue(authorized, request.get_ref(), self.calendars.current())
            .await?;
        Ok(Response::new(letter))
    }

    async fn record_letter_reply(
        &self,
        request: Request<api::RecordLetterReplyRequest>,
    ) -> Result<Response<api::Letter>, Status> {
        let authorized = Authorized::of(&request)?;
        Ok(Response::new(
            self.letters.reply(authorized, request.get_ref()).await?,
        ))
    }

    async fn record_upstream_letter(
        &self,
        request: Request<api::RecordUpstreamLetterRequest>,
    ) -> Result<Response<api::Letter>, Status> {
        let authorized = Authorized::of(&request)?;
        let letter = self
            .letters
            .record_upstream(authorized, request.get_ref(), self.calendars.current())
            .await?;
        Ok(Response::new(letter))
    }

    async fn list_letters(
        &self,
        request: Request<api::ListLettersRequest>,
    ) -> Result<Response<api::ListLettersResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        Ok(Response::new(
            self.letters.list(authorized, request.get_ref()).await?,
        ))
    }

    async fn assign_leader(
        &self,
        request: Request<api::AssignLeaderRequest>,
    ) -> Result<Response<api::LeaderCase>, Status> {
        let authorized = Authorized::of(&request)?;
        leaders::assign(
            &self.write,
            &self.bureau_code,
            authorized,
            request.get_ref(),
        )
        .await
        .map(Response::new)
    }

    async fn record_leader_outcome(
        &self,
        request: Request<api::RecordLeaderOutcomeRequest>,
    ) -> Result<Response<api::LeaderCase>, Status> {
        let authorized = Authorized::of(&request)?;
        leaders::record_outcome(
            &self.write,
            &self.bureau_code,
            authorized,
            request.get_ref(),
        )
        .await
        .map(Response::new)
    }

    async fn list_leader_cases(
        &self,
        request: Request<api::ListLeaderCasesRequest>,
    ) -> Result<Response<api::ListLeaderCasesResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        leaders::list(&self.write, authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn add_to_watch_list(
        &self,
        request: Request<api::AddToWatchListRequest>,
    ) -> Result<Response<api::WatchEntry>, Status> {
        let authorized = Authorized::of(&request)?;
        watch::add(&self.write, authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn remove_from_watch_list(
        &self,
        request: Request<api::RemoveFromWatchListRequest>,
    ) -> Result<Response<api::WatchEntry>, Status> {
        let authorized = Authorized::of(&request)?;
        watch::remove(&self.write, authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn list_watch_list(
        &self,
        request: Request<api::ListWatchListRequest>,
    ) -> Result<Response<api::ListWatchListResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        watch::list(&self.write, authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn record_inspection(
        &self,
        request: Request<api::RecordInspectionRequest>,
    ) -> Result<Response<api::Inspection>, Status> {
        let authorized = Authorized::of(&request)?;
        watch::record_inspection(&self.write, authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn declare_recusal(
        &self,
        request: Request<api::DeclareRecusalRequest>,
    ) -> Result<Response<api::Recusal>, Status> {
        let authorized = Authorized::of(&request)?;
        recusals::declare(&self.write, authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn withdraw_recusal(
        &self,
        request: Request<api::WithdrawRecusalRequest>,
    ) -> Result<Response<api::Recusal>, Status> {
        let authorized = Authorized::of(&request)?;
        recusals::withdraw(&self.write, authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn list_recusals(
        &self,
        request: Request<api::ListRecusalsRequest>,
    ) -> Result<Response<api::ListRecusalsResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        recusals::list(self.db(), &authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn add_leader(
        &self,
        request: Request<api::AddLeaderRequest>,
    ) -> Result<Response<api::Leader>, Status> {
        let authorized = Authorized::of(&request)?;
        receptions::add_leader(&self.write, authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn list_leaders(
        &self,
        request: Request<api::ListLeadersRequest>,
    ) -> Result<Response<api::ListLeadersResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        receptions::list_leaders(self.db(), &authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn record_reception(
        &self,
        request: Request<api::RecordReceptionRequest>,
    ) -> Result<Response<api::Reception>, Status> {
        let authorized = Authorized::of(&request)?;
        receptions::record_reception(&self.write, authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn list_receptions(
        &self,
        request: Request<api::ListReceptionsRequest>,
    ) -> Result<Response<api::ListReceptionsResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        receptions::list_receptions(self.db(), &authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn get_reception_figures(
        &self,
        request: Request<api::GetReceptionFiguresRequest>,
    ) -> Result<Response<api::ReceptionFigures>, Status> {
        let authorized = Authorized::of(&request)?;
        receptions::reception_figures(self.db(), &authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn list_inspections(
        &self,
        request: Request<api::ListInspectionsRequest>,
    ) -> Result<Response<api::ListInspectionsResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        watch::list_inspections(&self.write, authorized, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn list_holiday_notices(
        &self,
        request: Request<api::ListHolidayNoticesRequest>,
    ) -> Result<Response<api::ListHolidayNoticesResponse>, Status> {
        Authorized::of(&request)?;
        let notices = holiday_notice::Entity::find()
            .order_by_asc(holiday_notice::Column::Year)
            .all(self.db())
            .await
            .map_err(QueryError::from)?;
        let calendar = holidays::stored_calendar(self.db()).await?;
        Ok(Response::new(api::ListHolidayNoticesResponse {
            notices: notices.iter().map(notice_view).collect::<Result<_, _>>()?,
            calendar_version: calendar.version(),
        }))
    }
}

/// The clock rows of duties (not windows) that are still running.
fn open_duties() -> sea_orm::sea_query::SelectStatement {
    let windows = DeadlineKind::ALL
        .iter()
        .filter(|kind| kind.is_window())
        .map(|kind| kind.code());
    Query::select()
        .column(clock::Column::CaseId)
        .from(clock::Entity)
        .cond_where(
            Condition::all()
                .add(clock::Column::MetOn.is_null())
                .add(clock::Column::ClosedOn.is_null())
                .add(clock::Column::PausedSince.is_null())
                .add(clock::Column::Kind.is_not_in(windows)),
        )
        .to_owned()
}
