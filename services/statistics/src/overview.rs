//! The overview leaders read first: every case so far by source, channel, unit and where it
//! stands today. Counted in the database (it covers every case), with the same rules as the
//! figures (`figures::status`, `figures::is_case`).

use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QuerySelect,
};
use time::{Date, OffsetDateTime};
use xinfang_platform::auth::unit_path_of;
use xinfang_platform::wire::{self, china_date};
use xinfang_proto::statistics::v1::{Count, Overview};
use xinfang_proto::vocabulary::SourceLevel;

use crate::query::snapshot;
use crate::store::case_record::{Column, Entity};
use crate::store::event_fact;

fn sorted(counts: BTreeMap<String, u64>) -> Vec<Count> {
    let mut counts: Vec<Count> = counts
        .into_iter()
        .filter(|(_, cases)| *cases > 0)
        .map(|(key, cases)| Count { key, cases })
        .collect();
    counts.sort_by(|a, b| b.cases.cmp(&a.cases).then_with(|| a.key.cmp(&b.key)));
    counts
}

/// A case of its own (件), registered: what every count here is over.
fn cases() -> Condition {
    Condition::all()
        .add(Column::RegisteredOn.is_not_null())
        .add(Column::RepeatOf.is_null())
        .add(Column::LinkedInto.is_null())
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

async fn grouped<C: ConnectionTrait>(
    db: &C,
    column: Column,
    only: Condition,
) -> Result<Vec<Count>, DbErr> {
    let rows: Vec<(Option<String>, i64)> = Entity::find()
        .select_only()
        .column(column)
        .column_as(Expr::col(Column::CaseId).count(), "cases")
        .filter(cases())
        .filter(column.is_not_null())
        .filter(only)
        .group_by(column)
        .into_tuple()
        .all(db)
        .await?;
    Ok(sorted(
        rows.into_iter()
            .filter_map(|(key, n)| Some((key?, count(n))))
            .collect(),
    ))
}

async fn counted<C: ConnectionTrait>(db: &C, condition: Condition) -> Result<u64, DbErr> {
    let n: Option<i64> = Entity::find()
        .select_only()
        .column_as(Expr::col(Column::CaseId).count(), "cases")
        .filter(cases())
        .filter(condition)
        .into_tuple()
        .one(db)
        .await?;
    Ok(n.map(count).unwrap_or_default())
}

/// Done, overdue and in deadline on `today`, as `figures::status` decides.
async fn by_status<C: ConnectionTrait>(db: &C, today: Date) -> Result<Vec<Count>, DbErr> {
    let done = Condition::all().add(Column::DoneOn.lte(today));
    let not_done = Condition::any()
        .add(Column::DoneOn.is_null())
        .add(Column::DoneOn.gt(today));
    let overdue = Condition::all()
        .add(not_done)
        .add(Column::OpenDutyDue.lt(today));
    let all = counted(db, Condition::all()).await?;
    let done = counted(db, done).await?;
    let overdue = counted(db, overdue).await?;
    Ok(sorted(BTreeMap::from([
        ("done".to_owned(), done),
        ("overdue".to_owned(), overdue),
        (
            "in-deadline".to_owned(),
            all.saturating_sub(done).saturating_sub(overdue),
        ),
    ])))
}

/// Every case so far, counted from one snapshot, so the totals and the breakdowns agree even
/// while events keep arriving.
pub async fn consistent_overview(
    db: &DatabaseConnection,
    now: OffsetDateTime,
) -> Result<Overview, DbErr> {
    let transaction = snapshot(db).await?;
    let today = china_date(now);
    let total = counted(&transaction, Condition::all()).await?;
    let mut by_source = BTreeMap::new();
    for level in SourceLevel::ALL {
        let like = format!("%/{}/%", level.code());
        by_source.insert(
            level.code().to_owned(),
            counted(
                &transaction,
                Condition::all().add(Column::Sources.like(like)),
            )
            .await?,
        );
    }
    // Few cases were ever re-routed after an objection: their lists are read and counted here.
    let wrong: Vec<String> = Entity::find()
        .select_only()
        .column(Column::WronglyRoutedTo)
        .filter(Column::WronglyRoutedTo.ne(""))
        .into_tuple()
        .all(&transaction)
        .await?;
    let mut wrong_routings = BTreeMap::new();
    for unit in wrong.iter().flat_map(|path| unit_path_of(path)) {
        *wrong_routings.entry(unit).or_default() += 1;
    }
    let latest: Option<Option<OffsetDateTime>> = event_fact::Entity::find()
        .select_only()
        .column_as(Expr::col(event_fact::Column::OccurredAt).max(), "latest")
        .into_tuple()
        .one(&transaction)
        .await?;
    let overview = Overview {
        cases: total,
        by_source: sorted(by_source),
        by_channel: grouped(&transaction, Column::Channel, Condition::all()).await?,
        // A diverted case is no unit's, as in the figures.
        by_unit: grouped(
            &transaction,
            Column::UnitCode,
            Condition::all().add(Column::Diverted.eq(false)),
        )
        .await?,
        by_status: by_status(&transaction, today).await?,
        as_of: latest.flatten().map(wire::timestamp),
        wrong_routings_by_unit: sorted(wrong_routings),
        timelines_opened: counted(
            &transaction,
            Condition::all().add(Column::TimelineOpened.eq(true)),
        )
        .await?,
    };
    transaction.commit().await?;
    Ok(overview)
}
