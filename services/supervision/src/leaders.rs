//! Leaders' cases (领导包案): a leader takes a case — level, plan, who assigned it — and
//! records how it ended: resolved in substance (化解) or only closed by procedure. Each change
//! is an event, so the figures can count leaders' cases and how many were resolved.

use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use time::OffsetDateTime;
use tonic::Status;
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, Scope, unit_path_of, within_units};
use xinfang_platform::grpc::{self, FieldViolation, QueryError, invalid_argument, next_page};
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::recusal::Recusals;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided, WritePath};
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{self as api, LeaderCaseChanged};

use crate::deadlines::start_day;
use crate::routed::SERVICE;
use crate::store::{case, leader_case};

const LEVELS: [(api::LeaderLevel, &str); 4] = [
    (api::LeaderLevel::Province, "province"),
    (api::LeaderLevel::Prefecture, "prefecture"),
    (api::LeaderLevel::City, "city"),
    (api::LeaderLevel::Town, "town"),
];

const OUTCOMES: [(api::LeaderOutcome, &str); 2] = [
    (api::LeaderOutcome::Resolved, "resolved"),
    (api::LeaderOutcome::ClosedByProcedure, "closed-by-procedure"),
];

pub(crate) fn level_code(value: i32) -> Option<&'static str> {
    let level = api::LeaderLevel::try_from(value).ok()?;
    LEVELS
        .iter()
        .find(|(l, _)| *l == level)
        .map(|(_, code)| *code)
}

pub(crate) fn level_of(code: &str) -> api::LeaderLevel {
    LEVELS
        .iter()
        .find(|(_, c)| *c == code)
        .map_or(api::LeaderLevel::Unspecified, |(level, _)| *level)
}

fn outcome_of(code: &str) -> api::LeaderOutcome {
    OUTCOMES
        .iter()
        .find(|(_, c)| *c == code)
        .map_or(api::LeaderOutcome::Unspecified, |(outcome, _)| *outcome)
}

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl From<LeaderError> for Status {
    fn from(error: LeaderError) -> Self {
        match error {
            LeaderError::NotFound(what) => Status::not_found(what),
            LeaderError::FailedPrecondition(why) => Status::failed_precondition(why),
            LeaderError::Database(error) => {
                tracing::error!(error = %error, "database error");
                Status::unavailable("could not be recorded now; retry")
            }
        }
    }
}

pub fn view(row: &leader_case::Model, case: &case::Model) -> api::LeaderCase {
    api::LeaderCase {
        case_id: row.case_id.to_string(),
        case_number: case.case_number.clone(),
        leader: row.leader.clone(),
        level: level_of(&row.level).into(),
        assigned_by: row.assigned_by.clone(),
        plan: row.plan.clone(),
        assigned_on: Some(wire::calendar_date(row.assigned_on)),
        outcome: outcome_of(&row.outcome).into(),
        outcome_on: row.outcome_on.map(wire::calendar_date),
        outcome_note: row.outcome_note.clone(),
        unit_code: case.unit_code.clone(),
    }
}

/// What a leader's case becomes.
enum Ownership {
    Assign {
        leader: String,
        level: &'static str,
        plan: String,
    },
    Outcome {
        outcome: &'static str,
        note: String,
    },
}

struct ChangeOwnership {
    case_id: Uuid,
    ownership: Ownership,
    authorized: Authorized,
    bureau_code: String,
}

impl Change for ChangeOwnership {
    type State = (case::Model, Option<leader_case::Model>);
    type Outcome = (case::Model, leader_case::Model, bool);
    type Error = LeaderError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, LeaderError> {
        let case = case::Entity::find_by_id(self.case_id)
            .one(transaction)
            .await?
            .ok_or_else(|| LeaderError::NotFound(format!("no case {}", self.case_id)))?;
        let owned = leader_case::Entity::find_by_id(self.case_id)
            .one(transaction)
            .await?;
        Ok((case, owned))
    }

    fn decide(
        &self,
        (case, owned): Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, LeaderError> {
        let today = start_day(now);
        let (row, what) = match (&self.ownership, owned) {
            (
                Ownership::Assign {
                    leader,
                    level,
                    plan,
                },
                owned,
            ) => {
                let row = leader_case::Model {
                    case_id: self.case_id,
                    leader: leader.clone(),
                    level: (*level).to_owned(),
                    assigned_by: self.authorized.caller.subject.clone(),
                    plan: plan.clone(),
                    // The same leader revising the plan keeps the day they took the case.
                    assigned_on: owned
                        .as_ref()
                        .filter(|o| o.leader == *leader)
                        .map_or(today, |o| o.assigned_on),
                    outcome: String::new(),
                    outcome_on: None,
                    outcome_note: String::new(),
                };
                if owned.as_ref().is_some_and(|o| {
                    o.leader == row.leader && o.level == row.level && o.plan == row.plan
                }) {
                    let unchanged = owned.unwrap_or(row);
                    return Ok(Decided::quietly((case, unchanged, false)));
                }
                (row, "assigned")
            }
            (Ownership::Outcome { .. }, None) => {
                return Err(LeaderError::FailedPrecondition(format!(
                    "case {} has no leader: assign one first",
                    case.case_number
                )));
            }
            (Ownership::Outcome { outcome, note }, Some(owned)) => {
                if owned.outcome == *outcome && owned.outcome_note == *note {
                    return Ok(Decided::quietly((case, owned, false)));
                }
                let row = leader_case::Model {
                    outcome: (*outcome).to_owned(),
                    outcome_on: Some(today),
                    outcome_note: note.clone(),
                    ..owned
                };
                (row, "outcome")
            }
        };
        let unit = case.unit_code.clone();
        let event = OutgoingEvent::new(
            subjects::leader_case_changed(
                if unit.is_empty() {
                    &self.bureau_code
                } else {
                    &unit
                },
                what,
            ),
            SERVICE,
            self.case_id,
            now,
            &LeaderCaseChanged {
                // The plan and the note are free text: read over gRPC, not carried.
                leader_case: Some(api::LeaderCase {
                    plan: String::new(),
                    outcome_note: String::new(),
                    ..view(&row, &case)
                }),
            },
        );
        Ok(Decided {
            outcome: (case, row, true),
            events: vec![event],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (_, row, changed): &Self::Outcome,
    ) -> Result<(), LeaderError> {
        if !changed {
            return Ok(());
        }
        leader_case::Entity::delete_by_id(row.case_id)
            .exec(transaction)
            .await?;
        leader_case::Entity::insert(leader_case::ActiveModel::from(row.clone()))
            .exec_without_returning(transaction)
            .await?;
        self.authorized
            .audit_in(
                transaction,
                Some(row.case_id),
                &format!("leader {}", row.leader),
            )
            .await?;
        Ok(())
    }
}

fn case_id(text: &str, violations: &mut Vec<FieldViolation>) -> Option<Uuid> {
    Uuid::parse_str(text)
        .map_err(|_| violations.push(FieldViolation::new("case_id", "must be a UUID")))
        .ok()
}

pub async fn assign(
    write: &WritePath,
    bureau_code: &str,
    authorized: Authorized,
    request: &api::AssignLeaderRequest,
) -> Result<api::LeaderCase, Status> {
    let mut violations = Vec::new();
    let case_id = case_id(&request.case_id, &mut violations);
    let level = level_code(request.level);
    if level.is_none() {
        violations.push(FieldViolation::new(
            "level",
            "is required: province, prefecture, city or town",
        ));
    }
    for (field, value) in [("leader", &request.leader), ("plan", &request.plan)] {
        if value.trim().is_empty() {
            violations.push(FieldViolation::new(field, "is required"));
        }
    }
    let (Some(case_id), Some(level)) = (case_id, level) else {
        return Err(invalid_argument(&violations));
    };
    if !violations.is_empty() {
        return Err(invalid_argument(&violations));
    }
    caller_may_act(write, &authorized, case_id).await?;
    // A leader with a declared interest is never given the case (回避, Art 28).
    let leader = request.leader.trim();
    let unit_path = case::Entity::find_by_id(case_id)
        .one(&write.db)
        .await
        .map_err(QueryError::from)?
        .map(|case| unit_path_of(&case.unit_path));
    let interests = Recusals::of(&write.db, leader)
        .await
        .map_err(QueryError::from)?;
    if interests.excludes(case_id, unit_path.as_deref()) {
        authorized
            .audit(
                Some(case_id),
                false,
                &format!("{leader} declared an interest (Art 28)"),
            )
            .await?;
        return Err(Status::failed_precondition(format!(
            "{leader} has declared an interest in this case (回避, Art 28): assign another leader"
        )));
    }
    let (case, row, _) = write
        .execute(ChangeOwnership {
            case_id,
            ownership: Ownership::Assign {
                leader: request.leader.trim().to_owned(),
                level,
                plan: request.plan.trim().to_owned(),
            },
            authorized,
            bureau_code: bureau_code.to_owned(),
        })
        .await?;
    Ok(view(&row, &case))
}

/// Not a case the caller declared an interest in (Art 28).
async fn caller_may_act(
    write: &WritePath,
    authorized: &Authorized,
    case_id: Uuid,
) -> Result<(), Status> {
    let path = case::Entity::find_by_id(case_id)
        .one(&write.db)
        .await
        .map_err(QueryError::from)?
        .map(|case| unit_path_of(&case.unit_path));
    authorized.check_case(case_id, path.as_deref()).await
}

pub async fn record_outcome(
    write: &WritePath,
    bureau_code: &str,
    authorized: Authorized,
    request: &api::RecordLeaderOutcomeRequest,
) -> Result<api::LeaderCase, Status> {
    let mut violations = Vec::new();
    let case_id = case_id(&request.case_id, &mut violations);
    let outcome = api::LeaderOutcome::try_from(request.outcome)
        .ok()
        .and_then(|outcome| OUTCOMES.iter().find(|(o, _)| *o == outcome))
        .map(|(_, code)| *code);
    if outcome.is_none() {
        violations.push(FieldViolation::new(
            "outcome",
            "is required: resolved or closed by procedure",
        ));
    }
    let (Some(case_id), Some(outcome)) = (case_id, outcome) else {
        return Err(invalid_argument(&violations));
    };
    caller_may_act(write, &authorized, case_id).await?;
    let (case, row, _) = write
        .execute(ChangeOwnership {
            case_id,
            ownership: Ownership::Outcome {
                outcome,
                note: request.note.trim().to_owned(),
            },
            authorized,
            bureau_code: bureau_code.to_owned(),
        })
        .await?;
    Ok(view(&row, &case))
}

pub async fn list(
    write: &WritePath,
    authorized: Authorized,
    request: &api::ListLeaderCasesRequest,
) -> Result<api::ListLeaderCasesResponse, Status> {
    let page_size = grpc::page_size(request.page_size).map_err(QueryError::from)?;
    let after: Option<Uuid> =
        grpc::parse_page_token(&request.page_token).map_err(QueryError::from)?;
    let mut query = leader_case::Entity::find()
        .find_also_related(case::Entity)
        .order_by_asc(leader_case::Column::CaseId);
    if !request.leader.is_empty() {
        query = query.filter(leader_case::Column::Leader.eq(request.leader.clone()));
    }
    if let Some(level) = level_code(request.level) {
        query = query.filter(leader_case::Column::Level.eq(level));
    }
    if let Some(after) = after {
        query = query.filter(leader_case::Column::CaseId.gt(after));
    }
    if authorized.scope == Scope::OwnUnits {
        query = query.filter(within_units(
            case::Column::UnitPath,
            &authorized.caller.units,
        ));
    }
    // Not a case the caller declared an interest in (Art 28), before the page is cut.
    let recusals = authorized.recusals().await?;
    if !recusals.is_empty() {
        query = query.filter(recusals.exclusion(case::Column::CaseId, case::Column::UnitPath));
    }
    let mut rows = query
        .limit(page_size + 1)
        .all(&write.db)
        .await
        .map_err(QueryError::from)?;
    let next_page_token = next_page(&mut rows, page_size, |(row, _)| row.case_id.to_string());
    let cases = rows
        .iter()
        .filter_map(|(row, case)| case.as_ref().map(|case| view(row, case)))
        .collect::<Vec<_>>();
    authorized
        .audit(
            None,
            true,
            &format!("listed {} leader case(s)", cases.len()),
        )
        .await?;
    Ok(api::ListLeaderCasesResponse {
        cases,
        next_page_token,
    })
}
