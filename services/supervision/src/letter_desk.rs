//! Letters by hand, through the write path: a supervisor issues one, a unit's written reply
//! is recorded, a higher bureau's letter is recorded against its case with its deadline.

use std::sync::Arc;

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use time::{Date, OffsetDateTime};
use tonic::Status;
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, Scope, lead_path, unit_path_of, within_units};
use xinfang_platform::grpc::{self, FieldViolation, QueryError, invalid_argument, next_page};
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided, WritePath};
use xinfang_proto::supervision::v1 as api;

use crate::calendar::HolidayCalendar;
use crate::case_record::CaseRecord;
use crate::deadlines::{DeadlineRule, start_day};
use crate::letters::{self, LetterKind, LetterSettings};
use crate::lifecycle::Clock;
use crate::store::{case, letter};

#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl From<LetterError> for Status {
    fn from(error: LetterError) -> Self {
        match error {
            LetterError::InvalidArgument(violations) => invalid_argument(&violations),
            LetterError::NotFound(what) => Status::not_found(what),
            LetterError::FailedPrecondition(why) => Status::failed_precondition(why),
            LetterError::AlreadyExists(why) => Status::already_exists(why),
            LetterError::Database(error) => {
                tracing::error!(error = %error, "database error");
                Status::unavailable("the letter could not be recorded now; retry")
            }
        }
    }
}

fn invalid(field: &str, why: impl Into<String>) -> LetterError {
    LetterError::InvalidArgument(vec![FieldViolation::new(field, why)])
}

/// A supervisor's letter by hand.
pub struct IssueByHand {
    pub request_id: Uuid,
    pub case_id: Uuid,
    pub kind: LetterKind,
    pub text: Option<String>,
    pub reply_days: u16,
    pub authorized: Authorized,
    pub settings: LetterSettings,
    pub calendar: Arc<HolidayCalendar>,
    /// The year the number is drawn in: the day the call was made.
    pub now: OffsetDateTime,
}

pub enum IssueState {
    Repeat(Box<letter::Model>),
    New { case: Box<CaseRecord>, serial: i32 },
}

impl Change for IssueByHand {
    type State = IssueState;
    type Outcome = (letter::Model, Option<Box<CaseRecord>>);
    type Error = LetterError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<IssueState, LetterError> {
        if let Some(earlier) = letter::Entity::find()
            .filter(letter::Column::RequestId.eq(self.request_id))
            .one(transaction)
            .await?
        {
            return Ok(IssueState::Repeat(Box::new(earlier)));
        }
        let case = CaseRecord::load_for_update(transaction, self.case_id)
            .await?
            .ok_or_else(|| LetterError::NotFound(format!("no case {}", self.case_id)))?;
        if case.row.unit_code.is_empty() || !case.stage.is_at_a_unit() {
            return Err(LetterError::FailedPrecondition(format!(
                "case {} is {}: no unit to address a letter to",
                case.row.case_number,
                case.stage.name()
            )));
        }
        let serial =
            letters::next_serial(transaction, self.kind, letters::letter_year(self.now)).await?;
        Ok(IssueState::New {
            case: Box::new(case),
            serial,
        })
    }

    fn decide(
        &self,
        state: IssueState,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, LetterError> {
        let (mut case, serial) = match state {
            IssueState::Repeat(earlier) => {
                if earlier.case_id != self.case_id || earlier.kind != self.kind.code() {
                    return Err(LetterError::AlreadyExists(format!(
                        "request_id {} was already used for another letter; use a new request_id",
                        self.request_id
                    )));
                }
                return Ok(Decided::quietly((*earlier, None)));
            }
            IssueState::New { case, serial } => (case, serial),
        };
        let mut issued = letters::issue(
            &mut case,
            self.kind,
            (letters::letter_year(self.now), serial),
            self.text.clone(),
            DeadlineRule::days(self.reply_days),
            &self.authorized.caller.subject,
            &self.settings,
            &self.calendar,
            now,
            None,
        );
        issued.letter.request_id = Some(self.request_id);
        case.row.updated_at = now;
        Ok(Decided {
            outcome: (issued.letter, Some(case)),
            events: vec![issued.event],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (letter, case): &Self::Outcome,
    ) -> Result<(), LetterError> {
        let Some(case) = case else { return Ok(()) };
        case.save(transaction).await?;
        letter::Entity::insert(letter::ActiveModel::from(letter.clone()))
            .exec_without_returning(transaction)
            .await?;
        self.authorized
            .audit_in(
                transaction,
                Some(case.row.case_id),
                &format!("issued {}", letter.number),
            )
            .await?;
        Ok(())
    }
}

/// The written reply to a letter (or, for a higher bureau's letter, the report sent back):
/// the clock its number opened is met.
pub struct RecordReply {
    pub number: String,
    pub reply: String,
    pub replied_on: Option<Date>,
    pub authorized: Authorized,
}

impl Change for RecordReply {
    type State = (letter::Model, CaseRecord);
    type Outcome = Option<(letter::Model, CaseRecord)>;
    type Error = LetterError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, LetterError> {
        let found = letter::Entity::find_by_id(self.number.clone())
            .one(transaction)
            .await?
            .ok_or_else(|| LetterError::NotFound(format!("no letter {}", self.number)))?;
        let case = CaseRecord::load_for_update(transaction, found.case_id)
            .await?
            .ok_or_else(|| LetterError::NotFound(format!("no case {}", found.case_id)))?;
        // The lead unit answers (a co-handling unit reads, but does not act for it).
        let path = case.unit_path();
        if !self
            .authorized
            .may_see(Some(lead_path(&path, &case.row.unit_code)))
        {
            return Err(LetterError::NotFound(format!("no letter {}", self.number)));
        }
        Ok((found, case))
    }

    fn decide(
        &self,
        (mut found, mut case): Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, LetterError> {
        if let Some(replied_on) = found.replied_on {
            return if found.reply == self.reply {
                Ok(Decided::quietly(None))
            } else {
                Err(LetterError::FailedPrecondition(format!(
                    "letter {} was replied to on {replied_on} already",
                    found.number
                )))
            };
        }
        let today = start_day(now);
        let on = self.replied_on.unwrap_or(today);
        if on > today {
            return Err(invalid("replied_on", format!("{on} is in the future")));
        }
        if on < start_day(found.issued_at) {
            return Err(invalid("replied_on", format!("{on} is before the letter")));
        }
        if let Some(entry) = case.ledger.entries.iter_mut().find(|entry| {
            entry.reference == found.number && entry.met_on.is_none() && entry.closed_on.is_none()
        }) {
            entry.met_on = Some(on);
        }
        found.replied_on = Some(on);
        found.reply = self.reply.clone();
        case.row.updated_at = now;
        Ok(Decided::quietly(Some((found, case))))
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        outcome: &Self::Outcome,
    ) -> Result<(), LetterError> {
        let Some((found, case)) = outcome else {
            return Ok(());
        };
        case.save(transaction).await?;
        found
            .clone()
            .into_active_model()
            .reset_all()
            .update(transaction)
            .await?;
        self.authorized
            .audit_in(
                transaction,
                Some(case.row.case_id),
                &format!("reply to {}", found.number),
            )
            .await?;
        Ok(())
    }
}

/// A higher bureau's letter about a case, with the deadline it sets.
pub struct RecordUpstream {
    pub case_id: Uuid,
    pub kind: LetterKind,
    pub issuer: String,
    pub number: String,
    pub text: String,
    pub deadline: Date,
    pub authorized: Authorized,
    pub calendar: Arc<HolidayCalendar>,
}

impl Change for RecordUpstream {
    type State = (Option<letter::Model>, Option<CaseRecord>);
    type Outcome = (letter::Model, Option<CaseRecord>);
    type Error = LetterError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, LetterError> {
        let earlier = letter::Entity::find_by_id(self.number.clone())
            .one(transaction)
            .await?;
        let case = CaseRecord::load_for_update(transaction, self.case_id).await?;
        Ok((earlier, case))
    }

    fn decide(
        &self,
        (earlier, case): Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, LetterError> {
        if let Some(earlier) = earlier {
            return if earlier.case_id == self.case_id && earlier.from_upstream {
                Ok(Decided::quietly((earlier, None)))
            } else {
                Err(LetterError::AlreadyExists(format!(
                    "letter {} is recorded already, about another case",
                    self.number
                )))
            };
        }
        let mut case =
            case.ok_or_else(|| LetterError::NotFound(format!("no case {}", self.case_id)))?;
        let today = start_day(now);
        case.ledger.open_entry(
            Clock::Upstream,
            self.number.clone(),
            today,
            DeadlineRule::set_day(self.deadline),
            &self.calendar,
        );
        if let Some(entry) = case.ledger.entries.last_mut() {
            entry.start_event = format!("{}的{} {}", self.issuer, self.kind.title(), self.number);
        }
        case.row.updated_at = now;
        let recorded = letter::Model {
            number: self.number.clone(),
            kind: self.kind.code().to_owned(),
            year: today.year(),
            serial: None,
            case_id: self.case_id,
            recipient_unit: String::new(),
            issuer: self.issuer.clone(),
            text: self.text.clone(),
            issued_at: now,
            issued_by: self.authorized.caller.subject.clone(),
            request_id: None,
            reply_due: Some(self.deadline),
            replied_on: None,
            reply: String::new(),
            from_upstream: true,
        };
        Ok(Decided::quietly((recorded, Some(case))))
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (recorded, case): &Self::Outcome,
    ) -> Result<(), LetterError> {
        let Some(case) = case else { return Ok(()) };
        case.save(transaction).await?;
        letter::Entity::insert(letter::ActiveModel::from(recorded.clone()))
            .exec_without_returning(transaction)
            .await?;
        self.authorized
            .audit_in(
                transaction,
                Some(case.row.case_id),
                &format!("recorded {}", recorded.number),
            )
            .await?;
        Ok(())
    }
}

/// The gRPC calls about letters.
pub struct LetterDesk {
    pub write: WritePath,
    pub settings: LetterSettings,
}

impl LetterDesk {
    async fn case_number(&self, case_id: Uuid) -> Result<String, LetterError> {
        Ok(case::Entity::find_by_id(case_id)
            .one(&self.write.db)
            .await?
            .map(|row| row.case_number)
            .unwrap_or_default())
    }

    /// The case must be one the caller may see; the same answer whether it exists or not.
    async fn check_scope(&self, authorized: &Authorized, case_id: Uuid) -> Result<(), Status> {
        let path = case::Entity::find_by_id(case_id)
            .one(&self.write.db)
            .await
            .map_err(QueryError::from)?
            .map(|row| unit_path_of(&row.unit_path));
        match path {
            Some(path) => authorized.check_case(case_id, Some(&path)).await,
            None if authorized.scope == Scope::All => {
                Err(Status::not_found(format!("no case {case_id}")))
            }
            _ => Err(authorized.deny(Some(case_id)).await),
        }
    }

    pub async fn issue(
        &self,
        authorized: Authorized,
        request: &api::IssueLetterRequest,
        calendar: Arc<HolidayCalendar>,
    ) -> Result<api::Letter, Status> {
        let mut violations = Vec::new();
        let request_id = Uuid::parse_str(&request.request_id)
            .map_err(|_| violations.push(FieldViolation::new("request_id", "must be a UUID")))
            .ok();
        let case_id = Uuid::parse_str(&request.case_id)
            .map_err(|_| violations.push(FieldViolation::new("case_id", "must be a UUID")))
            .ok();
        let kind = match LetterKind::from_proto(request.kind) {
            Ok(LetterKind::Assignment) => {
                violations.push(FieldViolation::new(
                    "kind",
                    "assignment letters are issued when a case is assigned",
                ));
                None
            }
            Ok(kind) => Some(kind),
            Err(why) => {
                violations.push(FieldViolation::new("kind", why));
                None
            }
        };
        let reply_days = match u16::try_from(request.reply_days) {
            Ok(days @ 0..=365) => Some(days),
            _ => {
                violations.push(FieldViolation::new("reply_days", "must be 0 to 365"));
                None
            }
        };
        let (Some(request_id), Some(case_id), Some(kind), Some(reply_days)) =
            (request_id, case_id, kind, reply_days)
        else {
            return Err(invalid_argument(&violations));
        };
        self.check_scope(&authorized, case_id).await?;
        let text = request.text.trim();
        let reply_days = if reply_days == 0 {
            self.settings.reply_days(kind)
        } else {
            reply_days
        };
        let (issued, _) = self
            .write
            .execute(IssueByHand {
                request_id,
                case_id,
                kind,
                text: (!text.is_empty()).then(|| text.to_owned()),
                reply_days,
                authorized,
                settings: self.settings.clone(),
                calendar,
                now: self.write.clock.now(),
            })
            .await?;
        Ok(letters::view(&issued, &self.case_number(case_id).await?))
    }

    pub async fn reply(
        &self,
        authorized: Authorized,
        request: &api::RecordLetterReplyRequest,
    ) -> Result<api::Letter, Status> {
        let mut violations = Vec::new();
        if request.number.trim().is_empty() {
            violations.push(FieldViolation::new("number", "is required"));
        }
        if request.reply.trim().is_empty() {
            violations.push(FieldViolation::new(
                "reply",
                "is required: the reply as written",
            ));
        }
        let replied_on = request
            .replied_on
            .as_ref()
            .map(wire::from_calendar_date)
            .transpose()
            .map_err(|why| violations.push(FieldViolation::new("replied_on", why)))
            .ok()
            .flatten();
        if !violations.is_empty() {
            return Err(invalid_argument(&violations));
        }
        let number = request.number.trim().to_owned();
        // Not by someone who declared an interest in the letter's case (Art 28).
        if let Some(found) = letter::Entity::find_by_id(number.clone())
            .one(&self.write.db)
            .await
            .map_err(QueryError::from)?
        {
            let path = case::Entity::find_by_id(found.case_id)
                .one(&self.write.db)
                .await
                .map_err(QueryError::from)?
                .map(|row| unit_path_of(&row.unit_path));
            if authorized
                .recusals()
                .await?
                .excludes(found.case_id, path.as_deref())
            {
                return Err(authorized.deny(Some(found.case_id)).await);
            }
        }
        self.write
            .execute(RecordReply {
                number: number.clone(),
                reply: request.reply.trim().to_owned(),
                replied_on,
                authorized,
            })
            .await?;
        let found = letter::Entity::find_by_id(number.clone())
            .one(&self.write.db)
            .await
            .map_err(QueryError::from)?
            .ok_or_else(|| Status::not_found(format!("no letter {number}")))?;
        Ok(letters::view(
            &found,
            &self.case_number(found.case_id).await?,
        ))
    }

    pub async fn record_upstream(
        &self,
        authorized: Authorized,
        request: &api::RecordUpstreamLetterRequest,
        calendar: Arc<HolidayCalendar>,
    ) -> Result<api::Letter, Status> {
        let mut violations = Vec::new();
        let case_id = Uuid::parse_str(&request.case_id)
            .map_err(|_| violations.push(FieldViolation::new("case_id", "must be a UUID")))
            .ok();
        let kind = LetterKind::from_proto(request.kind)
            .map_err(|why| violations.push(FieldViolation::new("kind", why)))
            .ok();
        for (field, value) in [("issuer", &request.issuer), ("number", &request.number)] {
            if value.trim().is_empty() {
                violations.push(FieldViolation::new(field, "is required"));
            }
        }
        let deadline = match request.deadline.as_ref() {
            None => {
                violations.push(FieldViolation::new("deadline", "is required"));
                None
            }
            Some(day) => wire::from_calendar_date(day)
                .map_err(|why| violations.push(FieldViolation::new("deadline", why)))
                .ok(),
        };
        let (Some(case_id), Some(kind), Some(deadline)) = (case_id, kind, deadline) else {
            return Err(invalid_argument(&violations));
        };
        if !violations.is_empty() {
            return Err(invalid_argument(&violations));
        }
        self.check_scope(&authorized, case_id).await?;
        let (recorded, _) = self
            .write
            .execute(RecordUpstream {
                case_id,
                kind,
                issuer: request.issuer.trim().to_owned(),
                number: request.number.trim().to_owned(),
                text: request.text.trim().to_owned(),
                deadline,
                authorized,
                calendar,
            })
            .await?;
        Ok(letters::view(&recorded, &self.case_number(case_id).await?))
    }

    pub async fn list(
        &self,
        authorized: Authorized,
        request: &api::ListLettersRequest,
    ) -> Result<api::ListLettersResponse, Status> {
        let page_size = grpc::page_size(request.page_size).map_err(QueryError::from)?;
        let after: Option<String> =
            grpc::parse_page_token(&request.page_token).map_err(QueryError::from)?;
        let mut query = letter::Entity::find().order_by_asc(letter::Column::Number);
        if !request.case_id.is_empty() {
            let case_id = Uuid::parse_str(&request.case_id)
                .map_err(|_| QueryError::from(FieldViolation::new("case_id", "must be a UUID")))?;
            query = query.filter(letter::Column::CaseId.eq(case_id));
        }
        if !request.recipient_unit.is_empty() {
            query = query.filter(letter::Column::RecipientUnit.eq(request.recipient_unit.clone()));
        }
        if let Some(after) = after {
            query = query.filter(letter::Column::Number.gt(after));
        }
        if authorized.scope == Scope::OwnUnits {
            query = query.filter(
                letter::Column::CaseId.in_subquery(
                    Query::select()
                        .column(case::Column::CaseId)
                        .from(case::Entity)
                        .cond_where(within_units(
                            case::Column::UnitPath,
                            &authorized.caller.units,
                        ))
                        .to_owned(),
                ),
            );
        }
        // Not the letters of a case the caller declared an interest in (Art 28), by the
        // case's path, before the page is cut.
        let recusals = authorized.recusals().await?;
        if !recusals.is_empty() {
            query = query.filter(recusals.case_exclusion(
                letter::Column::CaseId,
                case::Column::CaseId,
                case::Column::UnitPath,
            ));
        }
        let mut rows = query
            .limit(page_size + 1)
            .all(&self.write.db)
            .await
            .map_err(QueryError::from)?;
        let next_page_token = next_page(&mut rows, page_size, |row| row.number.clone());
        let mut letters = Vec::with_capacity(rows.len());
        for row in &rows {
            letters.push(letters::view(row, &self.case_number(row.case_id).await?));
        }
        authorized
            .audit(None, true, &format!("listed {} letter(s)", letters.len()))
            .await?;
        Ok(api::ListLettersResponse {
            letters,
            next_page_token,
        })
    }
}
