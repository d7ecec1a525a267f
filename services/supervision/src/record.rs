//! Recording one action on a case through the write path: the lifecycle decides, the ledger
//! moves its clocks, the step joins the case's history and its event is staged — one
//! commit, idempotent on the request id.

use std::sync::Arc;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter};
use time::OffsetDateTime;
use xinfang_platform::auth::{Authorized, Scope};
use xinfang_platform::grpc::FieldViolation;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{CaseAdvanced, MatterFinal};

use crate::action::CaseAction;
use crate::calendar::HolidayCalendar;
use crate::case_record::{CaseRecord, stage_code, stage_day};
use crate::deadlines::start_day;
use crate::ledger::LedgerError;
use crate::lifecycle::{self, Clock, Command, Effect, Refusal, Stage};
use crate::routed::SERVICE;
use crate::store::{case_upstream, step};
use crate::view;

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("no case {0}")]
    NotFound(uuid::Uuid),
    #[error("request id {0} was already used for a different action")]
    RequestIdReused(uuid::Uuid),
    #[error("{0}")]
    BureauOnly(String),
    #[error("{0}")]
    AlreadyReported(String),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the case's deadlines do not match its stage: {0}")]
    Ledger(#[from] LedgerError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

pub struct RecordAction {
    pub action: CaseAction,
    pub authorized: Authorized,
    pub calendar: Arc<HolidayCalendar>,
}

pub enum Recorded {
    Done {
        case: Box<CaseRecord>,
        step: Box<step::Model>,
        /// The higher bureau the result was reported to (its reference), if that was the
        /// action.
        reported_to: Option<String>,
    },
    /// A retry of an action recorded before.
    Repeat,
}

impl Change for RecordAction {
    /// An earlier step under the request id, the case, and the higher bureaus it answers to.
    type State = (
        Option<step::Model>,
        Option<CaseRecord>,
        Vec<case_upstream::Model>,
    );
    type Outcome = Recorded;
    type Error = ActionError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, ActionError> {
        let earlier = step::Entity::find_by_id(self.action.request_id)
            .one(transaction)
            .await?;
        let case = CaseRecord::load_for_update(transaction, self.action.case_id).await?;
        let upstreams = case_upstream::Entity::find()
            .filter(case_upstream::Column::CaseId.eq(self.action.case_id))
            .all(transaction)
            .await?;
        Ok((earlier, case, upstreams))
    }

    fn decide(
        &self,
        (earlier, case, upstreams): Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Recorded>, ActionError> {
        let action = &self.action;
        if let Some(earlier) = earlier {
            return if earlier.fingerprint == action.fingerprint && earlier.case_id == action.case_id
            {
                Ok(Decided::quietly(Recorded::Repeat))
            } else {
                Err(ActionError::RequestIdReused(action.request_id))
            };
        }
        let mut case = case.ok_or(ActionError::NotFound(action.case_id))?;
        let today = start_day(now);
        let on = action.occurred_on.unwrap_or(today);
        if on > today {
            return Err(invalid("occurred_on", format!("{on} is in the future")));
        }
        // Nothing the unit does can predate its receipt of the case, nor the last step.
        let earliest = stage_day(case.stage).or(case.row.routed_at.map(start_day));
        if let Some(last) = earliest
            && on < last
        {
            return Err(invalid(
                "occurred_on",
                format!("{on} is before the case's last step, on {last}"),
            ));
        }
        // The review and re-review opinions are the higher organ's, served by it: the unit
        // that handled the case does not record them (nor, so, the matter's finality).
        let organs_opinion = matches!(
            case.stage,
            Stage::ReviewDecided { .. } | Stage::ReReviewDecided { .. }
        );
        if action.command == Command::RecordService
            && organs_opinion
            && self.authorized.scope != Scope::All
        {
            return Err(ActionError::BureauOnly(format!(
                "the service of the {} opinion is recorded by the bureau, not by the unit",
                if matches!(case.stage, Stage::ReviewDecided { .. }) {
                    "review"
                } else {
                    "re-review"
                }
            )));
        }
        let facts = case.facts();
        if action.command == Command::Accept
            && facts.notice_owed
            && action.notice_text.as_deref().is_none_or(str::is_empty)
        {
            return Err(invalid(
                "accept.notice",
                "is required: the petitioner is owed a written notice of the route and procedure (Art 23)",
            ));
        }
        let ledger = case.ledger.clone();
        let step = lifecycle::decide(
            case.stage,
            action.command,
            on,
            facts,
            |clock| ledger.due(clock),
            &self.calendar,
        )?;
        case.ledger
            .apply_step(&step.effects, action.action, &self.calendar)?;
        let reported_to = match action.command {
            Command::ReportToUpstream => {
                Some(report_to_upstream(&mut case, &upstreams, action, on)?)
            }
            _ => None,
        };
        if let Some(note) = &action.extension
            && let Some(handling) = case.ledger.open_mut(Clock::Handling)
        {
            handling.extension = Some(note.clone());
        }
        let mut decision = None;
        let mut evaluation = None;
        let mut events = Vec::new();
        for effect in &step.effects {
            match effect {
                Effect::Opinion(given) => decision = Some(*given),
                Effect::Evaluated(given) => {
                    evaluation = Some(*given);
                    case.row.evaluation = given.code().to_owned();
                }
                Effect::FollowUp => case.row.follow_up = true,
                Effect::MatterFinal => events.push(OutgoingEvent::new(
                    subjects::matter_final(&case.row.unit_code),
                    SERVICE,
                    case.row.case_id,
                    now,
                    &MatterFinal {
                        case_id: case.row.case_id.to_string(),
                        case_number: case.row.case_number.clone(),
                        served_on: Some(wire::calendar_date(on)),
                    },
                )),
                _ => {}
            }
        }
        case.stage = step.stage;
        case.row.updated_at = now;
        let advanced = CaseAdvanced {
            case_id: case.row.case_id.to_string(),
            case_number: case.row.case_number.clone(),
            unit_code: case.row.unit_code.clone(),
            unit_path: case.unit_path(),
            action: action.action.to_owned(),
            stage: case.stage.to_proto().into(),
            occurred_on: Some(wire::calendar_date(on)),
            recorded_at: Some(wire::timestamp(now)),
            deadlines: view::deadlines(&case.ledger, today),
            decision: decision.map(|d| d.to_proto().into()).unwrap_or_default(),
            evaluation: evaluation.map(|e| e.to_proto().into()).unwrap_or_default(),
        };
        events.insert(
            0,
            OutgoingEvent::new(
                subjects::case_advanced(&case.row.unit_code, action.action),
                SERVICE,
                case.row.case_id,
                now,
                &advanced,
            ),
        );
        let step = step::Model {
            request_id: action.request_id,
            fingerprint: action.fingerprint.clone(),
            case_id: case.row.case_id,
            action: action.action.to_owned(),
            details: action.details.to_string(),
            actor: self.authorized.caller.subject.clone(),
            occurred_on: on,
            recorded_at: now,
            stage_after: stage_code(case.stage).to_owned(),
        };
        Ok(Decided {
            outcome: Recorded::Done {
                case: Box::new(case),
                step: Box::new(step),
                reported_to,
            },
            events,
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        recorded: &Recorded,
    ) -> Result<(), ActionError> {
        let Recorded::Done {
            case,
            step,
            reported_to,
        } = recorded
        else {
            return Ok(());
        };
        case.save(transaction).await?;
        if let Some(reference) = reported_to {
            case_upstream::Entity::update_many()
                .col_expr(
                    case_upstream::Column::ReportedOn,
                    Expr::value(step.occurred_on),
                )
                .filter(case_upstream::Column::CaseId.eq(case.row.case_id))
                .filter(case_upstream::Column::UpstreamReference.eq(reference.as_str()))
                .exec(transaction)
                .await?;
        }
        step::Entity::insert(step::ActiveModel::from(step.as_ref().clone()))
            .exec_without_returning(transaction)
            .await?;
        self.authorized
            .audit_in(transaction, Some(case.row.case_id), step.action.as_str())
            .await?;
        tracing::info!(case = %case.row.case_number, action = %step.action, stage = case.stage.name(), "case action recorded");
        Ok(())
    }
}

/// Reports the result back to the higher bureau the action names: one the case answers to,
/// not reported to yet. Its deadline, if it set one, is met on the day.
fn report_to_upstream(
    case: &mut CaseRecord,
    upstreams: &[case_upstream::Model],
    action: &CaseAction,
    on: time::Date,
) -> Result<String, ActionError> {
    let reference = action.upstream_reference.clone().unwrap_or_default();
    let Some(upstream) = upstreams
        .iter()
        .find(|upstream| upstream.upstream_reference == reference)
    else {
        let known: Vec<&str> = upstreams
            .iter()
            .map(|upstream| upstream.upstream_reference.as_str())
            .collect();
        return Err(invalid(
            "report_to_upstream.reference",
            if known.is_empty() {
                format!(
                    "case {} was sent down by no higher bureau",
                    case.row.case_number
                )
            } else {
                format!(
                    "case {} answers to {}, not {reference:?}",
                    case.row.case_number,
                    known.join(", ")
                )
            },
        ));
    };
    if let Some(reported_on) = upstream.reported_on {
        return Err(ActionError::AlreadyReported(format!(
            "the result of case {} was reported to {reference} on {reported_on}",
            case.row.case_number
        )));
    }
    // Every deadline that bureau set (it may have sent the case again with a new one).
    for deadline in case.ledger.entries.iter_mut().filter(|entry| {
        entry.clock == Clock::Upstream
            && entry.reference == reference
            && entry.met_on.is_none()
            && entry.closed_on.is_none()
    }) {
        deadline.met_on = Some(on);
    }
    Ok(reference)
}

fn invalid(field: &str, why: impl Into<String>) -> ActionError {
    ActionError::InvalidArgument(vec![FieldViolation::new(field, why)])
}
