//! The overview leaders read first: cases by source, channel, unit and status.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, IsolationLevel, QueryFilter, QuerySelect, TransactionTrait,
};
use time::OffsetDateTime;
use xinfang_platform::wire;
use xinfang_proto::statistics::v1::{Count, Overview};

use crate::store::case_fact::{Column, Entity};

/// Registered cases by the value of a column, largest first, then by key.
async fn breakdown<C: ConnectionTrait>(db: &C, column: Column) -> Result<Vec<Count>, DbErr> {
    let rows: Vec<(Option<String>, i64)> = Entity::find()
        .select_only()
        .column(column)
        .column_as(Expr::col(Column::CaseId).count(), "cases")
        .filter(column.is_not_null())
        .filter(Column::RegisteredAt.is_not_null())
        .filter(Column::LinkedToCaseId.is_null())
        .group_by(column)
        .into_tuple()
        .all(db)
        .await?;
    Ok(sorted(
        rows.into_iter()
            .filter_map(|(key, cases)| Some((key?, u64::try_from(cases).unwrap_or_default())))
            .collect(),
    ))
}

fn sorted(rows: Vec<(String, u64)>) -> Vec<Count> {
    let mut counts: Vec<Count> = rows
        .into_iter()
        .map(|(key, cases)| Count { key, cases })
        .collect();
    counts.sort_by(|a, b| b.cases.cmp(&a.cases).then_with(|| a.key.cmp(&b.key)));
    counts
}

async fn count<C: ConnectionTrait>(db: &C, filter: sea_orm::Condition) -> Result<u64, DbErr> {
    let cases: Option<i64> = Entity::find()
        .select_only()
        .column_as(Expr::col(Column::CaseId).count(), "cases")
        .filter(filter)
        .into_tuple()
        .one(db)
        .await?;
    Ok(cases
        .and_then(|c| u64::try_from(c).ok())
        .unwrap_or_default())
}

/// The overview as of one moment: every count is read from the same snapshot, so the
/// totals and the breakdowns agree even while events keep arriving.
pub async fn consistent_overview(db: &DatabaseConnection) -> Result<Overview, DbErr> {
    let snapshot = match db.get_database_backend() {
        // SQLite's read transaction is a snapshot from its first read; it takes no options.
        DatabaseBackend::Sqlite => db.begin().await?,
        _ => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
    };
    let overview = overview(&snapshot).await?;
    snapshot.commit().await?;
    Ok(overview)
}

async fn overview<C: ConnectionTrait>(db: &C) -> Result<Overview, DbErr> {
    use sea_orm::Condition;
    // A petition linked into another case is counted with that case, not as one of its own.
    let registered = Condition::all()
        .add(Column::RegisteredAt.is_not_null())
        .add(Column::LinkedToCaseId.is_null());
    let cases = count(db, registered.clone()).await?;
    // A case is only as far as the furthest event about it that arrived: streams are read
    // independently, so the timeline can come before the routing decision.
    let awaiting_routing = count(
        db,
        registered
            .clone()
            .add(Column::RoutedAt.is_null())
            .add(Column::SupervisedAt.is_null()),
    )
    .await?;
    let routed = count(
        db,
        registered
            .clone()
            .add(Column::RoutedAt.is_not_null())
            .add(Column::SupervisedAt.is_null()),
    )
    .await?;
    let supervised = count(db, registered.add(Column::SupervisedAt.is_not_null())).await?;
    let latest: Option<(
        Option<OffsetDateTime>,
        Option<OffsetDateTime>,
        Option<OffsetDateTime>,
    )> = Entity::find()
        .select_only()
        .column_as(Expr::col(Column::RegisteredAt).max(), "registered")
        .column_as(Expr::col(Column::RoutedAt).max(), "routed")
        .column_as(Expr::col(Column::SupervisedAt).max(), "supervised")
        .into_tuple()
        .one(db)
        .await?;
    let as_of = latest.and_then(|(a, b, c)| [a, b, c].into_iter().flatten().max());
    Ok(Overview {
        cases,
        by_source: by_source(db).await?,
        by_channel: breakdown(db, Column::Channel).await?,
        by_unit: breakdown(db, Column::UnitCode).await?,
        by_status: sorted(vec![
            ("registered".to_owned(), awaiting_routing),
            ("routed".to_owned(), routed),
            ("supervised".to_owned(), supervised),
        ]),
        as_of: as_of.map(wire::timestamp),
        wrong_routings_by_unit: wrong_routings(db).await?,
    })
}

/// Cases by each source they came by: a case the national and the provincial bureau both
/// sent down counts once under each (so these may add up to more than `cases`), and a
/// bureau that sent the same case twice counts once.
async fn by_source<C: ConnectionTrait>(db: &C) -> Result<Vec<Count>, DbErr> {
    use crate::store::case_source::{Column as Source, Entity as CaseSource};
    let counted = Query::select()
        .column(Column::CaseId)
        .from(Entity)
        .and_where(Column::RegisteredAt.is_not_null())
        .and_where(Column::LinkedToCaseId.is_null())
        .to_owned();
    let rows: Vec<(String, i64)> = CaseSource::find()
        .select_only()
        .column(Source::SourceLevel)
        .column_as(Expr::col(Source::CaseId).count_distinct(), "cases")
        .filter(Source::CaseId.in_subquery(counted))
        .group_by(Source::SourceLevel)
        .into_tuple()
        .all(db)
        .await?;
    Ok(sorted(
        rows.into_iter()
            .map(|(key, cases)| (key, u64::try_from(cases).unwrap_or_default()))
            .collect(),
    ))
}

/// Wrong routings by the unit wrongly sent the case.
async fn wrong_routings<C: ConnectionTrait>(db: &C) -> Result<Vec<Count>, DbErr> {
    use crate::store::wrong_routing::{Column as Wrong, Entity as WrongRouting};
    let rows: Vec<(String, i64)> = WrongRouting::find()
        .select_only()
        .column(Wrong::UnitCode)
        .column_as(Expr::col(Wrong::CaseId).count(), "cases")
        .group_by(Wrong::UnitCode)
        .into_tuple()
        .all(db)
        .await?;
    Ok(sorted(
        rows.into_iter()
            .map(|(key, cases)| (key, u64::try_from(cases).unwrap_or_default()))
            .collect(),
    ))
}
