//! Drawing case numbers, and accounting for every one drawn.
//!
//! On PostgreSQL a number comes from a sequence per region and year, drawn before the
//! registering transaction: no lock is held while a registration runs, so registrations
//! scale with callers and with intake replicas. A number whose registration then fails is
//! recorded void with the reason; one whose process stopped before it could say so is
//! found by [`reconcile`] and recorded void too. So the sequence is not gap-free, but every
//! number is either a petition or a void row with why, which an auditor can check.
//!
//! On SQLite (one writer, the laptop default) the number is drawn inside the registering
//! transaction from a counter row: the database allows one writer at a time anyway, and a
//! rolled-back registration takes its number back, so the sequence there is gap-free.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    IdenStatic, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use time::{Duration, OffsetDateTime};

use crate::case_number::CaseNumber;
use crate::codes::RegionCode;
use crate::store::{case_number_sequence, case_number_void, petition};

/// How long a registration can possibly still be running after it drew its number: the
/// bound [`reconcile`] waits out before it calls a missing number void.
pub const SETTLE_AFTER: Duration = Duration::minutes(10);

/// Where numbers come from, by database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberSource {
    /// A PostgreSQL sequence, drawn before the transaction.
    Sequence,
    /// A counter row, drawn inside the registering transaction (SQLite).
    InTransaction,
}

impl NumberSource {
    pub fn for_backend(backend: DatabaseBackend) -> Self {
        match backend {
            DatabaseBackend::Postgres => NumberSource::Sequence,
            _ => NumberSource::InTransaction,
        }
    }
}

/// The sequence's name; region and year are digits, so it is a safe identifier.
fn sequence_name(region: &RegionCode, year: i32) -> String {
    format!("case_number_{}_{year}", region.as_str())
}

/// Draws the next number of the region's year from its PostgreSQL sequence, creating the
/// sequence on the year's first registration.
pub async fn draw_from_sequence<C: ConnectionTrait>(
    db: &C,
    region: &RegionCode,
    year: i32,
) -> Result<CaseNumber, DbErr> {
    let name = sequence_name(region, year);
    let next = Statement::from_string(
        DatabaseBackend::Postgres,
        format!("SELECT nextval('{name}') AS n"),
    );
    let row = match db.query_one_raw(next.clone()).await {
        Ok(row) => row,
        Err(_) => {
            // The year's first number here: create its sequence after every number already
            // given (by an older build's counter row, or petitions of this year), so an
            // upgrade in mid-year never hands out a number twice. Two replicas may race;
            // the loser's error is harmless.
            let start = highest_given(db, region, year).await? + 1;
            let _ = db
                .execute_unprepared(&format!(
                    "CREATE SEQUENCE IF NOT EXISTS {name} MINVALUE 1 START {start} CACHE 1"
                ))
                .await;
            db.query_one_raw(next).await?
        }
    };
    let drawn: i64 = row
        .ok_or_else(|| DbErr::RecordNotFound(name.clone()))?
        .try_get("", "n")?;
    Ok(CaseNumber {
        region: region.clone(),
        year,
        sequence: u64::try_from(drawn)
            .map_err(|_| DbErr::Custom(format!("{name} is negative: {drawn}")))?,
    })
}

/// The highest number of the year given so far, by the counter row or by a petition.
async fn highest_given<C: ConnectionTrait>(
    db: &C,
    region: &RegionCode,
    year: i32,
) -> Result<u64, DbErr> {
    let counter = case_number_sequence::Entity::find_by_id((region.as_str().to_owned(), year))
        .one(db)
        .await?
        .map_or(0, |row| u64::try_from(row.last_value).unwrap_or(0));
    let prefix = format!("{}-{year:04}-", region.as_str());
    let numbers: Vec<String> = petition::Entity::find()
        .select_only()
        .column(petition::Column::CaseNumber)
        .filter(petition::Column::CaseNumber.starts_with(&prefix))
        .into_tuple()
        .all(db)
        .await?;
    let registered = numbers
        .iter()
        .filter_map(|number| CaseNumber::parse(number).ok())
        .map(|number| number.sequence)
        .max()
        .unwrap_or(0);
    Ok(std::cmp::max(counter, registered))
}

/// Draws the next number inside the caller's transaction (SQLite): the counter row's
/// update is undone with the registration if it fails.
pub async fn draw_in_transaction<C: ConnectionTrait>(
    db: &C,
    region: &RegionCode,
    year: i32,
) -> Result<CaseNumber, DbErr> {
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
    Ok(CaseNumber {
        region: region.clone(),
        year,
        sequence: u64::try_from(last_value).map_err(|_| {
            DbErr::Custom(format!("case number sequence is negative: {last_value}"))
        })?,
    })
}

/// Records a drawn number as void, with why — unless a petition holds it after all (a
/// commit whose answer was lost may have gone through). Recording it twice keeps the first
/// reason.
pub async fn void<C: ConnectionTrait>(
    db: &C,
    number: &CaseNumber,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    let registered = petition::Entity::find()
        .filter(petition::Column::CaseNumber.eq(number.to_string()))
        .one(db)
        .await?
        .is_some();
    if registered {
        return Ok(());
    }
    case_number_void::Entity::insert(case_number_void::ActiveModel {
        region_code: Set(number.region.as_str().to_owned()),
        year: Set(number.year),
        sequence: Set(i64::try_from(number.sequence).unwrap_or(i64::MAX)),
        case_number: Set(number.to_string()),
        reason: Set(reason.to_owned()),
        voided_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            case_number_void::Column::RegionCode,
            case_number_void::Column::Year,
            case_number_void::Column::Sequence,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The account of one region's year of numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    pub region: RegionCode,
    pub year: i32,
    /// The highest number drawn so far (0: none).
    pub highest_drawn: u64,
    /// Numbers that are petitions.
    pub registered: u64,
    /// Numbers recorded void, with why, in order.
    pub voided: Vec<case_number_void::Model>,
    /// Numbers drawn so recently that their registration may still be running.
    pub pending: Vec<u64>,
}

impl Ledger {
    /// Every number drawn is a petition, void or still pending: nothing unaccounted.
    pub fn balances(&self) -> bool {
        self.registered + self.voided.len() as u64 + self.pending.len() as u64 == self.highest_drawn
    }
}

/// Accounts for every number of the year: numbers missing from both the petitions and the
/// void list are recorded void, once no registration that drew them can still be running
/// (a later number was registered more than [`SETTLE_AFTER`] ago — sequences hand numbers
/// out in order); the rest are reported pending.
pub async fn reconcile<C: ConnectionTrait>(
    db: &C,
    source: NumberSource,
    region: &RegionCode,
    year: i32,
    now: OffsetDateTime,
) -> Result<Ledger, DbErr> {
    let highest_drawn = highest_drawn(db, source, region, year).await?;
    let prefix = format!("{}-{year:04}-", region.as_str());
    let registered_rows: Vec<(String, OffsetDateTime)> = petition::Entity::find()
        .select_only()
        .column(petition::Column::CaseNumber)
        .column(petition::Column::RegisteredAt)
        .filter(petition::Column::CaseNumber.starts_with(&prefix))
        .into_tuple()
        .all(db)
        .await?;
    let mut registered: Vec<(u64, OffsetDateTime)> = registered_rows
        .iter()
        .filter_map(|(number, at)| Some((CaseNumber::parse(number).ok()?.sequence, *at)))
        .collect();
    registered.sort_unstable();
    let voided_before = voids(db, region, year).await?;
    // Everything below the highest number registered before this is settled; a year that
    // ended more than that long ago is settled whole.
    let year_over = crate::case_number::registration_year(now - SETTLE_AFTER) > year;
    let settled_below = if year_over {
        highest_drawn + 1
    } else {
        registered
            .iter()
            .filter(|(_, at)| *at <= now - SETTLE_AFTER)
            .map(|(sequence, _)| *sequence)
            .max()
            .unwrap_or(0)
    };
    let known: std::collections::HashSet<u64> = registered
        .iter()
        .map(|(sequence, _)| *sequence)
        .chain(voided_before.iter().map(|v| v.sequence as u64))
        .collect();
    let mut pending = Vec::new();
    for sequence in 1..=highest_drawn {
        if known.contains(&sequence) {
            continue;
        }
        if sequence < settled_below {
            let number = CaseNumber {
                region: region.clone(),
                year,
                sequence,
            };
            void(
                db,
                &number,
                "drawn but never registered: the registration failed or its process stopped before it could record why",
                now,
            )
            .await?;
        } else {
            pending.push(sequence);
        }
    }
    let held: std::collections::HashSet<u64> =
        registered.iter().map(|(sequence, _)| *sequence).collect();
    let voided = voids(db, region, year)
        .await?
        .into_iter()
        // A number both registered and void (a lost commit answer) is registered.
        .filter(|void| !held.contains(&u64::try_from(void.sequence).unwrap_or(0)))
        .collect();
    Ok(Ledger {
        region: region.clone(),
        year,
        highest_drawn,
        registered: registered.len() as u64,
        voided,
        pending,
    })
}

async fn voids<C: ConnectionTrait>(
    db: &C,
    region: &RegionCode,
    year: i32,
) -> Result<Vec<case_number_void::Model>, DbErr> {
    case_number_void::Entity::find()
        .filter(case_number_void::Column::RegionCode.eq(region.as_str()))
        .filter(case_number_void::Column::Year.eq(year))
        .order_by_asc(case_number_void::Column::Sequence)
        .all(db)
        .await
}

async fn highest_drawn<C: ConnectionTrait>(
    db: &C,
    source: NumberSource,
    region: &RegionCode,
    year: i32,
) -> Result<u64, DbErr> {
    let drawn: Option<i64> = match source {
        NumberSource::InTransaction => {
            case_number_sequence::Entity::find_by_id((region.as_str().to_owned(), year))
                .one(db)
                .await?
                .map(|row| row.last_value)
        }
        NumberSource::Sequence => {
            let name = sequence_name(region, year);
            let exists = db
                .query_one_raw(Statement::from_string(
                    DatabaseBackend::Postgres,
                    format!("SELECT to_regclass('{name}') IS NOT NULL AS present"),
                ))
                .await?
                .map(|row| row.try_get::<bool>("", "present"))
                .transpose()?
                .unwrap_or(false);
            if !exists {
                None
            } else {
                db.query_one_raw(Statement::from_string(
                    DatabaseBackend::Postgres,
                    format!(
                        "SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM {name}"
                    ),
                ))
                .await?
                .map(|row| row.try_get::<i64>("", "n"))
                .transpose()?
            }
        }
    };
    Ok(drawn.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}
