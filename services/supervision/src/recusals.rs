//! The registry of declared interests (回避, Art 28): the bureau records that a staff member
//! has an interest in a case, or in every case of a unit, and may withdraw it. Each change is
//! kept in the platform's `recusal` table, which every service's access checks read, and is
//! announced (`RecusalChanged`, without the reason) so that intake and routing keep theirs.

use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QueryOrder,
};
use time::OffsetDateTime;
use tonic::Status;
use uuid::Uuid;
use xinfang_platform::auth::Authorized;
use xinfang_platform::grpc::{FieldViolation, QueryError, invalid_argument};
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::recusal::{self, entity};
use xinfang_platform::write::{Change, Decided, WritePath};
use xinfang_proto::codes::DirectoryCode;
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{self as api, RecusalChanged};

use crate::routed::SERVICE;

/// The longest reason: it is read over gRPC only.
const MAX_REASON_CHARS: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum RecusalError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    OwnInterest(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl From<RecusalError> for Status {
    fn from(error: RecusalError) -> Self {
        match error {
            RecusalError::NotFound(what) => Status::not_found(what),
            RecusalError::OwnInterest(why) => Status::permission_denied(why),
            RecusalError::Database(error) => {
                tracing::error!(error = %error, "database error");
                Status::unavailable("could not be recorded now; retry")
            }
        }
    }
}

/// The recusal as the bureau reads it, with its reason.
pub fn view(row: &entity::Model) -> api::Recusal {
    api::Recusal {
        reason: row.reason.clone(),
        ..recusal::to_proto(row)
    }
}

fn reason(text: &str, violations: &mut Vec<FieldViolation>) -> String {
    let text = text.trim();
    if text.is_empty() {
        violations.push(FieldViolation::new("reason", "is required"));
    } else if text.chars().count() > MAX_REASON_CHARS {
        violations.push(FieldViolation::new(
            "reason",
            format!("is longer than {MAX_REASON_CHARS} characters"),
        ));
    }
    text.to_owned()
}

/// Records an interest; the same interest declared again returns the one in force.
pub async fn declare(
    write: &WritePath,
    authorized: Authorized,
    request: &api::DeclareRecusalRequest,
) -> Result<api::Recusal, Status> {
    let mut violations = Vec::new();
    let subject = request.subject.trim();
    if subject.is_empty() {
        violations.push(FieldViolation::new(
            "subject",
            "is required: the staff member's account",
        ));
    } else if xinfang_proto::subjects::SERVICES
        .iter()
        .any(|binding| binding.service == subject)
    {
        violations.push(FieldViolation::new(
            "subject",
            format!("{subject} is a service, not a staff member"),
        ));
    }
    let case_id = match request.case_id.trim() {
        "" => None,
        text => Uuid::parse_str(text)
            .map_err(|_| violations.push(FieldViolation::new("case_id", "must be a UUID")))
            .ok(),
    };
    let unit_code = match request.unit_code.trim() {
        "" => None,
        code => match DirectoryCode::parse(code) {
            Ok(_) => Some(code.to_owned()),
            Err(why) => {
                violations.push(FieldViolation::new("unit_code", format!("{code:?} {why}")));
                None
            }
        },
    };
    if request.case_id.trim().is_empty() == request.unit_code.trim().is_empty() {
        violations.push(FieldViolation::new(
            "case_id",
            "exactly one of case_id and unit_code: the case, or the unit whose cases",
        ));
    }
    let reason = reason(&request.reason, &mut violations);
    if !violations.is_empty() {
        return Err(invalid_argument(&violations));
    }
    let row = entity::Model {
        recusal_id: Uuid::now_v7(),
        subject: subject.to_owned(),
        case_id,
        unit_code,
        reason,
        declared_by: authorized.caller.subject.clone(),
        declared_at: write.clock.now(),
        withdrawn_at: None,
    };
    let (kept, _) = write.execute(Declare { row, authorized }).await?;
    Ok(view(&kept))
}

struct Declare {
    row: entity::Model,
    authorized: Authorized,
}

impl Change for Declare {
    /// The same interest, already in force.
    type State = Option<entity::Model>;
    /// The recusal in force, and whether this call recorded it.
    type Outcome = (entity::Model, bool);
    type Error = RecusalError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, RecusalError> {
        let mut query = entity::Entity::find()
            .filter(entity::Column::Subject.eq(self.row.subject.clone()))
            .filter(entity::Column::WithdrawnAt.is_null());
        query = match (&self.row.case_id, &self.row.unit_code) {
            (Some(case), _) => query.filter(entity::Column::CaseId.eq(*case)),
            (None, Some(unit)) => query.filter(entity::Column::UnitCode.eq(unit.clone())),
            (None, None) => query,
        };
        Ok(query.one(transaction).await?)
    }

    fn decide(
        &self,
        in_force: Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, RecusalError> {
        if let Some(in_force) = in_force {
            return Ok(Decided::quietly((in_force, false)));
        }
        Ok(Decided {
            events: vec![changed(&self.row, now)],
            outcome: (self.row.clone(), true),
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (row, recorded): &Self::Outcome,
    ) -> Result<(), RecusalError> {
        if !recorded {
            return Ok(());
        }
        recusal::store(transaction, row).await?;
        self.authorized
            .audit_in(
                transaction,
                row.case_id,
                &format!("declared the interest of {} (Art 28)", row.subject),
            )
            .await?;
        Ok(())
    }
}

fn changed(row: &entity::Model, now: OffsetDateTime) -> OutgoingEvent {
    OutgoingEvent::new(
        subjects::RECUSAL_CHANGED,
        SERVICE,
        row.case_id.unwrap_or(Uuid::nil()),
        now,
        &RecusalChanged {
            recusal: Some(recusal::to_proto(row)),
        },
    )
}

/// Withdraws an interest: the person may handle and read the case again.
pub async fn withdraw(
    write: &WritePath,
    authorized: Authorized,
    request: &api::WithdrawRecusalRequest,
) -> Result<api::Recusal, Status> {
    let mut violations = Vec::new();
    let recusal_id = Uuid::parse_str(request.recusal_id.trim())
        .map_err(|_| violations.push(FieldViolation::new("recusal_id", "must be a UUID")))
        .ok();
    reason(&request.reason, &mut violations);
    let Some(recusal_id) = recusal_id.filter(|_| violations.is_empty()) else {
        return Err(invalid_argument(&violations));
    };
    let (kept, _) = write
        .execute(Withdraw {
            recusal_id,
            authorized,
            reason: request.reason.trim().to_owned(),
        })
        .await?;
    Ok(view(&kept))
}

struct Withdraw {
    recusal_id: Uuid,
    authorized: Authorized,
    reason: String,
}

impl Change for Withdraw {
    type State = entity::Model;
    type Outcome = (entity::Model, bool);
    type Error = RecusalError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<entity::Model, RecusalError> {
        entity::Entity::find_by_id(self.recusal_id)
            .one(transaction)
            .await?
            .ok_or_else(|| RecusalError::NotFound(format!("no recusal {}", self.recusal_id)))
    }

    fn decide(
        &self,
        row: entity::Model,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, RecusalError> {
        // Another supervisor withdraws it: no one lifts their own.
        if row.subject == self.authorized.caller.subject {
            return Err(RecusalError::OwnInterest(format!(
                "{} may not withdraw their own declared interest: another supervisor does",
                row.subject
            )));
        }
        if row.withdrawn_at.is_some() {
            return Ok(Decided::quietly((row, false)));
        }
        let withdrawn = entity::Model {
            withdrawn_at: Some(now),
            ..row
        };
        Ok(Decided {
            events: vec![changed(&withdrawn, now)],
            outcome: (withdrawn, true),
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (row, withdrawn): &Self::Outcome,
    ) -> Result<(), RecusalError> {
        if !withdrawn {
            return Ok(());
        }
        recusal::store(transaction, row).await?;
        self.authorized
            .audit_in(
                transaction,
                row.case_id,
                &format!(
                    "withdrew the interest of {} (Art 28): {}",
                    row.subject, self.reason
                ),
            )
            .await?;
        Ok(())
    }
}

/// Every recusal, or one person's, newest first.
pub async fn list(
    db: &DatabaseConnection,
    authorized: &Authorized,
    request: &api::ListRecusalsRequest,
) -> Result<api::ListRecusalsResponse, Status> {
    let mut query = entity::Entity::find().order_by_desc(entity::Column::DeclaredAt);
    if !request.subject.trim().is_empty() {
        query = query.filter(entity::Column::Subject.eq(request.subject.trim()));
    }
    let rows = query.all(db).await.map_err(QueryError::from)?;
    authorized
        .audit(None, true, &format!("listed {} recusal(s)", rows.len()))
        .await?;
    Ok(api::ListRecusalsResponse {
        recusals: rows.iter().map(view).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use xinfang_platform::wire;

    #[test]
    fn the_event_carries_no_reason() {
        let row = entity::Model {
            recusal_id: Uuid::now_v7(),
            subject: "clerk-li".into(),
            case_id: None,
            unit_code: Some("zhaocun".into()),
            reason: "其配偶在赵村镇任职".into(),
            declared_by: "supervisor-zhao".into(),
            declared_at: wire::stored(OffsetDateTime::now_utc()),
            withdrawn_at: None,
        };
        let event = changed(&row, OffsetDateTime::now_utc());
        assert_eq!(event.subject, subjects::RECUSAL_CHANGED);
        let payload = String::from_utf8_lossy(&event.payload);
        assert!(!payload.contains("配偶"));
        assert_eq!(view(&row).reason, "其配偶在赵村镇任职");
    }
}
