//! A petitioner following their case with its number and query code, and a new code for
//! one who lost theirs.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait};
use tonic::Status;
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, Scope, unit_path_of};
use xinfang_platform::grpc::{FieldViolation, QueryError, invalid_argument};
use xinfang_platform::sealing::KeyRing;
use xinfang_platform::wire;
use xinfang_proto::intake::v1 as api;

use crate::case_number::CaseNumber;
use crate::petition::Channel;
use crate::query_code;
use crate::store::{petition, petition_scope};

const NO_MATCH: &str = "no petition with this case number and query code";

pub async fn follow(
    db: &DatabaseConnection,
    keys: &KeyRing,
    authorized: &Authorized,
    request: &api::FollowPetitionRequest,
) -> Result<api::FollowedPetition, Status> {
    let number = CaseNumber::parse(&request.case_number);
    let code = query_code::normalise(&request.query_code);
    let (number, _) = match (number, code) {
        (Ok(number), Some(code)) => (number, code),
        (number, code) => {
            let mut violations = Vec::new();
            if let Err(why) = number {
                violations.push(FieldViolation::new("case_number", why));
            }
            if code.is_none() {
                violations.push(FieldViolation::new(
                    "query_code",
                    "must be the 12 letters and digits given at registration",
                ));
            }
            return Err(invalid_argument(&violations));
        }
    };
    let found = petition::Entity::find()
        .filter(petition::Column::CaseNumber.eq(number.to_string()))
        .one(db)
        .await
        .map_err(QueryError::from)?;
    // An unknown number and a wrong code answer alike: the answer tells nothing of which
    // case numbers exist.
    let Some(row) = found.filter(|row| query_code::matches(keys, row, &request.query_code)) else {
        authorized
            .audit(None, false, &format!("follow: no match for {number}"))
            .await?;
        return Err(Status::not_found(NO_MATCH));
    };
    authorized
        .audit(Some(row.case_id), true, "followed with the query code")
        .await?;
    Ok(api::FollowedPetition {
        case_id: row.case_id.to_string(),
        case_number: row.case_number.clone(),
        title: row.title.clone(),
        channel: Channel::from_code(&row.channel)
            .map(|c| c.to_proto() as i32)
            .unwrap_or_default(),
        received_at: Some(wire::timestamp(row.received_at)),
        registered_at: Some(wire::timestamp(row.registered_at)),
    })
}

pub async fn reissue(
    db: &DatabaseConnection,
    keys: &KeyRing,
    authorized: &Authorized,
    case_id: Uuid,
    reason: &str,
) -> Result<api::ReissueQueryCodeResponse, Status> {
    let Some(row) = petition::Entity::find_by_id(case_id)
        .one(db)
        .await
        .map_err(QueryError::from)?
    else {
        if authorized.scope == Scope::All {
            authorized.audit(Some(case_id), true, "not found").await?;
            return Err(Status::not_found(format!(
                "no petition with case id {case_id}"
            )));
        }
        return Err(authorized.deny(Some(case_id)).await);
    };
    let scope = petition_scope::Entity::find_by_id(case_id)
        .one(db)
        .await
        .map_err(QueryError::from)?;
    let unit_path = scope.map(|scope| unit_path_of(&scope.unit_path));
    authorized.check_case(case_id, unit_path.as_deref()).await?;
    let transaction = db.begin().await.map_err(QueryError::from)?;
    let code = query_code::reissue(&transaction, keys, case_id)
        .await
        .map_err(QueryError::from)?;
    authorized
        .audit_in(
            &transaction,
            Some(case_id),
            &format!("issued a new query code: {reason}"),
        )
        .await
        .map_err(QueryError::from)?;
    transaction.commit().await.map_err(QueryError::from)?;
    Ok(api::ReissueQueryCodeResponse {
        case_number: row.case_number,
        query_code: code,
    })
}
