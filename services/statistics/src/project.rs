//! The case records, folded from the facts: one case again whenever a fact about it arrives,
//! every case when the projection's version changes, and any set of cases as they stood at
//! a moment (an as-of figure).

use std::collections::HashMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, Iterable,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::facts::{self, Stored};
use crate::record::{CaseRecord, fold};
use crate::store::{case_record, event_fact, projection};

pub const PROJECTION: &str = "case_record";
/// Raise it when `record::fold` changes: the service folds every case again at start.
pub const PROJECTION_VERSION: i32 = 2;
/// Cases read at once: well under any database's limit on bound parameters.
const CHUNK: usize = 500;

/// The facts that happened by `until` (their `ce-time`, stored as every time is): an as-of
/// figure's cut.
pub fn happened_by(until: OffsetDateTime) -> Condition {
    Condition::all().add(event_fact::Column::OccurredAt.lte(xinfang_platform::wire::stored(until)))
}

/// The facts of `case_ids`, each under every one of them it concerns, up to `until`.
pub async fn facts_of<C: ConnectionTrait>(
    db: &C,
    case_ids: &[Uuid],
    until: Option<OffsetDateTime>,
) -> Result<HashMap<Uuid, Vec<Stored>>, DbErr> {
    let mut by_case: HashMap<Uuid, Vec<Stored>> = HashMap::new();
    for chunk in case_ids.chunks(CHUNK) {
        let mut query = event_fact::Entity::find().filter(
            Condition::any()
                .add(event_fact::Column::CaseId.is_in(chunk.iter().copied()))
                .add(event_fact::Column::RelatedCaseId.is_in(chunk.iter().copied())),
        );
        if let Some(until) = until {
            query = query.filter(happened_by(until));
        }
        for row in query.all(db).await? {
            let fact = match facts::decode(&row.event_type, &row.payload) {
                Ok(fact) => fact,
                Err(why) => {
                    tracing::error!(event_id = %row.event_id, why, "a kept fact no longer decodes");
                    continue;
                }
            };
            let stored = Stored {
                event_id: row.event_id,
                occurred_at: row.occurred_at,
                fact,
            };
            for case_id in [row.case_id, row.related_case_id].into_iter().flatten() {
                if chunk.contains(&case_id) {
                    by_case.entry(case_id).or_default().push(stored.clone());
                }
            }
        }
    }
    Ok(by_case)
}

/// The records of `case_ids` as they stood at `until`: cases not known then are left out.
pub async fn records_as_of<C: ConnectionTrait>(
    db: &C,
    case_ids: &[Uuid],
    until: OffsetDateTime,
) -> Result<Vec<CaseRecord>, DbErr> {
    let facts = facts_of(db, case_ids, Some(until)).await?;
    let mut records: Vec<CaseRecord> = facts
        .into_iter()
        .filter_map(|(case_id, facts)| fold(case_id, &facts))
        .collect();
    records.sort_by_key(|record| record.case_id);
    Ok(records)
}

async fn save<C: ConnectionTrait>(
    db: &C,
    case_id: Uuid,
    record: Option<CaseRecord>,
) -> Result<(), DbErr> {
    let Some(record) = record else {
        case_record::Entity::delete_by_id(case_id).exec(db).await?;
        return Ok(());
    };
    let row: case_record::ActiveModel = case_record::Model::from(&record).into();
    case_record::Entity::insert(row)
        .on_conflict(
            OnConflict::column(case_record::Column::CaseId)
                .update_columns(
                    case_record::Column::iter()
                        .filter(|c| !matches!(c, case_record::Column::CaseId)),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A record is folded from the facts its transaction sees: two consumers folding one case
/// at once would each miss the other's new fact, and the later write would lose one. So the
/// folds take turns, one transaction at a time, on PostgreSQL's transaction-scoped advisory
/// lock (one lock, so no two folds can wait on each other); the one that waited reads what
/// the other committed. SQLite has one writer at a time already.
pub async fn take_turn<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({FOLD_LOCK})"))
            .await?;
    }
    Ok(())
}

/// The advisory lock's key: "xfstats" in ASCII.
const FOLD_LOCK: i64 = 0x0078_6673_7461_7473;

/// Folds one case again from all its facts.
pub async fn refold<C: ConnectionTrait>(db: &C, case_id: Uuid) -> Result<(), DbErr> {
    let mut facts = facts_of(db, &[case_id], None).await?;
    let record = fold(case_id, &facts.remove(&case_id).unwrap_or_default());
    save(db, case_id, record).await
}

/// Folds every case again when the records were folded by another version of the fold.
pub async fn reproject(db: &sea_orm::DatabaseConnection) -> Result<(), DbErr> {
    let stored = projection::Entity::find_by_id(PROJECTION.to_owned())
        .one(db)
        .await?
        .map(|row| row.version);
    if stored == Some(PROJECTION_VERSION) {
        return Ok(());
    }
    tracing::info!(from = ?stored, to = PROJECTION_VERSION, "folding every case's record again");
    let mut case_ids: Vec<Uuid> = Vec::new();
    for column in [
        event_fact::Column::CaseId,
        event_fact::Column::RelatedCaseId,
    ] {
        let ids: Vec<Option<Uuid>> = event_fact::Entity::find()
            .select_only()
            .column(column)
            .distinct()
            .order_by_asc(column)
            .into_tuple()
            .all(db)
            .await?;
        case_ids.extend(ids.into_iter().flatten());
    }
    case_ids.sort();
    case_ids.dedup();
    for chunk in case_ids.chunks(CHUNK) {
        let transaction = db.begin().await?;
        take_turn(&transaction).await?;
        let mut facts = facts_of(&transaction, chunk, None).await?;
        for case_id in chunk {
            let record = fold(*case_id, &facts.remove(case_id).unwrap_or_default());
            save(&transaction, *case_id, record).await?;
        }
        transaction.commit().await?;
    }
    mark_current(db).await
}

/// Records that the case records are this fold's.
pub async fn mark_current<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    projection::Entity::insert(projection::ActiveModel {
        name: Set(PROJECTION.to_owned()),
        version: Set(PROJECTION_VERSION),
    })
    .on_conflict(
        OnConflict::column(projection::Column::Name)
            .update_column(projection::Column::Version)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}
