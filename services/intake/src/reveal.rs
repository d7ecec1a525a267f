//! RevealPetitioner: the petitioner's identity in full, for those who must contact them —
//! the clerk who registered the petition, and a handler of the unit it is routed to (to
//! serve notices, Art 22/23). Everyone else is refused. Each reveal and each refusal is
//! audited with the reason given.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tonic::Status;
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, Role, audit, unit_path_of};
use xinfang_platform::grpc::{FieldViolation, QueryError, invalid_argument};
use xinfang_platform::sealing::KeyRing;
use xinfang_proto::v1 as proto;

use crate::petition::PetitionerKind;
use crate::sealed_identity;
use crate::store::{petition, petition_scope, petitioner};
use crate::view;

const CREATE_PETITION: &str = "xinfang.intake.v1.IntakeService/CreatePetition";
const REASON_LIMIT: usize = 500;

/// Why the caller asks (for the identity, for a new query code): required, kept in the
/// audit table.
pub fn parse_reason(reason: &str) -> Result<String, Status> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_LIMIT {
        return Err(invalid_argument(&[FieldViolation::new(
            "reason",
            format!("say why, in at most {REASON_LIMIT} characters (e.g. 送达受理告知书)"),
        )]));
    }
    Ok(reason.to_owned())
}

/// What a reveal shows: the petitioner, or the representatives of a visiting group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revealed {
    Petitioner,
    Representatives,
}

impl Revealed {
    fn what(self) -> &'static str {
        match self {
            Revealed::Petitioner => "the petitioner",
            Revealed::Representatives => "the representatives",
        }
    }
}

pub async fn reveal(
    db: &DatabaseConnection,
    keys: &KeyRing,
    authorized: &Authorized,
    case_id: Uuid,
    reason: &str,
) -> Result<proto::PetitionerIdentity, Status> {
    let (row, record) =
        open_for_contact(db, keys, authorized, case_id, reason, Revealed::Petitioner).await?;
    Ok(view::revealed_identity(&row.kind, &record))
}

/// The representatives a visiting group chose, in full (none for a petition without).
pub async fn reveal_representatives(
    db: &DatabaseConnection,
    keys: &KeyRing,
    authorized: &Authorized,
    case_id: Uuid,
    reason: &str,
) -> Result<Vec<proto::PetitionerIdentity>, Status> {
    let (_, record) = open_for_contact(
        db,
        keys,
        authorized,
        case_id,
        reason,
        Revealed::Representatives,
    )
    .await?;
    Ok(record
        .representatives
        .iter()
        .map(|person| view::revealed_identity(PetitionerKind::Person.code(), person))
        .collect())
}

/// The sealed identity of the case, opened for a caller who must contact its people: the
/// registering clerk or a handler of the responsible unit; every ask audited, with `what`.
async fn open_for_contact(
    db: &DatabaseConnection,
    keys: &KeyRing,
    authorized: &Authorized,
    case_id: Uuid,
    reason: &str,
    revealed: Revealed,
) -> Result<(petitioner::Model, sealed_identity::PetitionerRecord), Status> {
    let what = revealed.what();
    let found = petition::Entity::find_by_id(case_id)
        .one(db)
        .await
        .map_err(QueryError::from)?;
    let scope = petition_scope::Entity::find_by_id(case_id)
        .one(db)
        .await
        .map_err(QueryError::from)?;
    if found.is_none() {
        return Err(match authorized.scope {
            xinfang_platform::auth::Scope::All => {
                authorized
                    .audit(Some(case_id), false, "reveal: no such case")
                    .await?;
                Status::not_found(format!("no petition with case id {case_id}"))
            }
            xinfang_platform::auth::Scope::OwnUnits => authorized.deny(Some(case_id)).await,
        });
    }
    let unit_path = scope.as_ref().map(|scope| unit_path_of(&scope.unit_path));
    authorized.check_case(case_id, unit_path.as_deref()).await?;
    let caller = &authorized.caller;
    let registering_clerk = (caller.roles.contains(&Role::Registrar)
        || caller.roles.contains(&Role::UnitRegistrar))
        && registered_by(db, case_id).await?.as_deref() == Some(caller.subject.as_str());
    let responsible_handler = caller.roles.contains(&Role::UnitHandler)
        && scope
            .as_ref()
            .is_some_and(|scope| caller.units.contains(&scope.unit_code));
    if !registering_clerk && !responsible_handler {
        authorized
            .audit(
                Some(case_id),
                false,
                &format!("reveal of {what} refused: neither the registering clerk nor a handler of the responsible unit; asked because: {reason}"),
            )
            .await?;
        return Err(Status::permission_denied(format!(
            "{caller} may not see {what} of this petition: only the clerk who registered the petition and a handler of the unit it is routed to may"
        )));
    }
    let Some(row) = petitioner::Entity::find_by_id(case_id)
        .one(db)
        .await
        .map_err(QueryError::from)?
    else {
        authorized
            .audit(Some(case_id), true, "reveal: anonymous, nothing to reveal")
            .await?;
        return Err(Status::not_found(
            "the petition is anonymous: there is no identity to reveal",
        ));
    };
    let record = match sealed_identity::open_petitioner(keys, &row) {
        Ok(record) => record,
        Err(error) => {
            tracing::error!(case = %case_id, error = %error, "a petitioner's identity does not open");
            authorized
                .audit(Some(case_id), false, &format!("reveal failed: {error}"))
                .await?;
            return Err(Status::data_loss(format!(
                "the petitioner's identity cannot be opened: {error}"
            )));
        }
    };
    authorized
        .audit(Some(case_id), true, &format!("revealed {what}: {reason}"))
        .await?;
    Ok((row, record))
}

/// The subject that registered the case, from the registration's own audit row.
async fn registered_by(db: &DatabaseConnection, case_id: Uuid) -> Result<Option<String>, Status> {
    Ok(audit::entry::Entity::find()
        .filter(audit::entry::Column::CaseId.eq(case_id))
        .filter(audit::entry::Column::Action.eq(CREATE_PETITION))
        .filter(audit::entry::Column::Note.eq("registered"))
        .filter(audit::entry::Column::Allowed.eq(true))
        .one(db)
        .await
        .map_err(QueryError::from)?
        .map(|entry| entry.subject))
}
