//! Registering a petition: one transaction draws the case number, stores the petition and
//! its petitioner, and stages the `PetitionRegistered` event in the outbox. The caller is
//! answered only after it committed.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IdenStatic, QueryFilter,
    SqlErr, TransactionTrait,
};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::outbox::{self, OutgoingEvent};
use xinfang_proto::{subjects, v1 as proto};

use crate::case_number::{CaseNumber, registration_year};
use crate::codes::RegionCode;
use crate::petition::NewPetition;
use crate::store::{case_number_sequence, petition, petitioner};
use crate::view;

pub const SERVICE: &str = "intake";

/// What registration needs to know about the bureau.
#[derive(Debug, Clone)]
pub struct Registrar {
    pub region: RegionCode,
    /// From this many people up, a petition is collective (集体访); DOMAIN.md's default is 5.
    pub collective_threshold: u32,
}

/// One CreatePetition call, parsed.
pub struct Registration {
    pub request_id: Uuid,
    /// A hash of the petition as sent, to tell a retry from a different petition.
    pub fingerprint: Vec<u8>,
    pub petition: NewPetition,
}

/// The stored petition, and the events to hand to the relay (none for a retry).
pub struct Registered {
    pub petition: petition::Model,
    pub petitioner: Option<petitioner::Model>,
    pub events: Vec<OutgoingEvent>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("request id {0} was already used for a different petition")]
    RequestIdReused(Uuid),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

pub async fn register(
    db: &DatabaseConnection,
    registrar: &Registrar,
    registration: Registration,
    now: OffsetDateTime,
) -> Result<Registered, RegisterError> {
    let now = to_microseconds(now);
    if let Some(existing) = find_retry(db, &registration).await? {
        return Ok(existing);
    }
    match register_new(db, registrar, &registration, now).await {
        Ok(registered) => Ok(registered),
        // Two concurrent calls with one request id: the other committed first.
        Err(RegisterError::Database(error))
            if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            match find_retry(db, &registration).await? {
                Some(existing) => Ok(existing),
                None => Err(RegisterError::Database(error)),
            }
        }
        Err(error) => Err(error),
    }
}

/// The petition an earlier call with this request id registered, if any.
async fn find_retry(
    db: &DatabaseConnection,
    registration: &Registration,
) -> Result<Option<Registered>, RegisterError> {
    let found = petition::Entity::find()
        .filter(petition::Column::RequestId.eq(registration.request_id))
        .find_also_related(petitioner::Entity)
        .one(db)
        .await?;
    match found {
        None => Ok(None),
        Some((petition, _)) if petition.request_fingerprint != registration.fingerprint => {
            Err(RegisterError::RequestIdReused(registration.request_id))
        }
        Some((petition, petitioner)) => Ok(Some(Registered {
            petition,
            petitioner,
            events: Vec::new(),
        })),
    }
}

async fn register_new(
    db: &DatabaseConnection,
    registrar: &Registrar,
    registration: &Registration,
    now: OffsetDateTime,
) -> Result<Registered, RegisterError> {
    let new = &registration.petition;
    let transaction = db.begin().await?;
    let year = registration_year(now);
    let sequence = draw_sequence(&transaction, &registrar.region, year).await?;
    let case_number = CaseNumber {
        region: registrar.region.clone(),
        year,
        sequence,
    };
    let case_id = Uuid::now_v7();

    let petition = petition::Model {
        case_id,
        case_number: case_number.to_string(),
        request_id: registration.request_id,
        request_fingerprint: registration.fingerprint.clone(),
        channel: new.channel.code().to_owned(),
        source_level: new.source_level.code().to_owned(),
        upstream_reference: new.upstream.as_ref().map(|u| u.reference.clone()),
        upstream_disposition: new
            .upstream
            .as_ref()
            .map(|u| u.disposition.code().to_owned()),
        upstream_deadline: new.upstream.as_ref().and_then(|u| u.deadline),
        received_at: to_microseconds(new.received_at),
        registered_at: now,
        anonymous: new.is_anonymous(),
        // Parsing bounds the count far below i32::MAX.
        people_count: i32::try_from(new.people_count).unwrap_or(i32::MAX),
        collective: new.people_count >= registrar.collective_threshold,
        territory_code: new.territory.as_str().to_owned(),
        matter_category: new.matter_category.as_str().to_owned(),
        title: new.title.clone(),
        content: new.content.clone(),
        accused_unit_code: new
            .accused_unit
            .as_ref()
            .map(|code| code.as_str().to_owned()),
    };
    petition::Entity::insert(petition::ActiveModel::from(petition.clone()))
        .exec_without_returning(&transaction)
        .await?;

    let petitioner = new.petitioner.as_ref().map(|identity| petitioner::Model {
        case_id,
        kind: identity.kind.code().to_owned(),
        name: identity.name.clone(),
        id_card_number: identity.id_card.as_ref().map(|id| id.as_str().to_owned()),
        phone: identity
            .phone
            .as_ref()
            .map(|phone| phone.as_str().to_owned()),
        address: identity.address.clone(),
    });
    if let Some(petitioner) = &petitioner {
        petitioner::Entity::insert(petitioner::ActiveModel::from(petitioner.clone()))
            .exec_without_returning(&transaction)
            .await?;
    }

    let event = OutgoingEvent::new(
        subjects::PETITION_REGISTERED,
        SERVICE,
        case_id,
        now,
        &registered_event(&petition, petitioner.as_ref()),
    );
    outbox::stage(&transaction, std::slice::from_ref(&event)).await?;
    transaction.commit().await?;
    Ok(Registered {
        petition,
        petitioner,
        events: vec![event],
    })
}

/// PostgreSQL keeps microseconds; storing no finer lets a retry read back exactly what the
/// first call answered, on either database.
fn to_microseconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

/// Draws the next sequence of the region's year inside the caller's transaction. The row
/// lock it takes serialises registrations, so numbers are gap-free and unique.
async fn draw_sequence<C: ConnectionTrait>(
    db: &C,
    region: &RegionCode,
    year: i32,
) -> Result<u64, DbErr> {
    use case_number_sequence::Column;
    let upsert = Query::insert()
        .into_table(case_number_sequence::Entity)
        .columns([Column::RegionCode, Column::Year, Column::LastValue])
        .values_panic([region.as_str().into(), year.into(), 1i64.into()])
        .on_conflict(
            OnConflict::columns([Column::RegionCode, Column::Year])
                .value(
                    Column::LastValue,
                    Expr::col((case_number_sequence::Entity, Column::LastValue)).add(1),
                )
                .to_owned(),
        )
        .returning_col(Column::LastValue)
        .to_owned();
    let statement = db.get_database_backend().build(&upsert);
    let row = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("case number sequence".into()))?;
    let last_value: i64 = row.try_get("", Column::LastValue.as_str())?;
    u64::try_from(last_value)
        .map_err(|_| DbErr::Custom(format!("case number sequence is negative: {last_value}")))
}

/// The event for a registered petition: everything routing, supervision and statistics
/// need, and nothing that identifies the petitioner.
pub fn registered_event(
    petition: &petition::Model,
    petitioner: Option<&petitioner::Model>,
) -> proto::PetitionRegistered {
    let shown = view::petition(petition, None);
    proto::PetitionRegistered {
        case_id: shown.case_id,
        case_number: shown.case_number,
        channel: shown.channel,
        source: shown.source,
        received_at: shown.received_at,
        registered_at: shown.registered_at,
        anonymous: shown.anonymous,
        petitioner_kind: petitioner
            .map(|p| view::petitioner_kind(&p.kind))
            .unwrap_or_default(),
        people_count: shown.people_count,
        collective: shown.collective,
        territory_code: shown.territory_code,
        matter_category: shown.matter_category,
        accused_unit_code: shown.accused_unit_code,
    }
}
