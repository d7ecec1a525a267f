//! Reading the figures: the records of a period from one snapshot of the database, as they
//! stand (the case records) or as they stood at a moment (folded again from the facts up to
//! it), then the plain formulas.

use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, IsolationLevel, QueryFilter, QueryOrder,
    TransactionTrait,
};
use time::OffsetDateTime;
use xinfang_platform::wire::{china_date, timestamp};
use xinfang_proto::Name;
use xinfang_proto::statistics::v1::{Figures, WorkFigures};
use xinfang_proto::supervision::v1::{
    InspectionRecorded, LeaderCaseChanged, LetterIssued, ReceptionRecorded, WatchListChanged,
};

use crate::facts::{self, Stored};
use crate::figures::{Filter, figures};
use crate::formula::Formula;
use crate::period::Period;
use crate::project::{PROJECTION_VERSION, records_as_of};
use crate::record::CaseRecord;
use crate::store::{case_record, event_fact};
use crate::work::work_figures;

/// A read-only snapshot: every number of one answer is read from the same moment.
pub async fn snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        // SQLite's read transaction is a snapshot from its first read; it takes no options.
        DatabaseBackend::Sqlite => db.begin().await,
        _ => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await
        }
    }
}

/// The records of the cases registered in `period`, now or as they stood at `as_of`.
pub async fn records_in<C: ConnectionTrait>(
    db: &C,
    period: &Period,
    as_of: Option<OffsetDateTime>,
) -> Result<Vec<CaseRecord>, DbErr> {
    let rows = case_record::Entity::find()
        .filter(case_record::Column::RegisteredOn.between(period.first, period.last))
        .order_by_asc(case_record::Column::CaseId)
        .all(db)
        .await?;
    match as_of {
        None => Ok(rows.into_iter().map(CaseRecord::from).collect()),
        Some(as_of) => {
            let case_ids: Vec<uuid::Uuid> = rows.iter().map(|row| row.case_id).collect();
            records_as_of(db, &case_ids, as_of).await
        }
    }
}

/// What a figure request asks, checked.
#[derive(Debug, Clone)]
pub struct Asked {
    pub period: Period,
    pub filter: Filter,
    /// `None`: as things stand now.
    pub as_of: Option<OffsetDateTime>,
    pub formula: Formula,
}

pub async fn read_figures(
    db: &DatabaseConnection,
    asked: &Asked,
    now: OffsetDateTime,
) -> Result<Figures, DbErr> {
    let transaction = snapshot(db).await?;
    let records = records_in(&transaction, &asked.period, asked.as_of).await?;
    transaction.commit().await?;
    let as_of = asked.as_of.unwrap_or(now);
    Ok(Figures {
        projection_version: u32::try_from(PROJECTION_VERSION).unwrap_or_default(),
        as_of: Some(timestamp(as_of)),
        ..figures(
            &records,
            &asked.period,
            &asked.filter,
            china_date(as_of),
            &asked.formula,
        )
    })
}

/// The bureau's own facts (and the letters and leaders' cases) up to `until`, in time order.
async fn work_facts<C: ConnectionTrait>(
    db: &C,
    until: Option<OffsetDateTime>,
) -> Result<Vec<Stored>, DbErr> {
    let kinds = [
        WatchListChanged::full_name(),
        LeaderCaseChanged::full_name(),
        LetterIssued::full_name(),
        InspectionRecorded::full_name(),
        ReceptionRecorded::full_name(),
    ];
    let mut query = event_fact::Entity::find()
        .filter(event_fact::Column::EventType.is_in(kinds))
        .order_by_asc(event_fact::Column::OccurredAt)
        .order_by_asc(event_fact::Column::EventId);
    if let Some(until) = until {
        query =
            query.filter(event_fact::Column::OccurredAt.lte(xinfang_platform::wire::stored(until)));
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| {
            let fact = facts::decode(&row.event_type, &row.payload).ok()?;
            Some(Stored {
                event_id: row.event_id,
                occurred_at: row.occurred_at,
                fact,
            })
        })
        .collect())
}

pub async fn read_work_figures(
    db: &DatabaseConnection,
    period: &Period,
    as_of: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<WorkFigures, DbErr> {
    let transaction = snapshot(db).await?;
    let records = records_in(&transaction, period, as_of).await?;
    let facts = work_facts(&transaction, as_of).await?;
    transaction.commit().await?;
    let at = as_of.unwrap_or(now);
    Ok(WorkFigures {
        as_of: Some(timestamp(at)),
        ..work_figures(&records, &facts, period, china_date(at))
    })
}

/// The parts of a period a trend shows: its days up to a month, its months beyond.
fn parts(period: &Period) -> Vec<(String, Period)> {
    let mut parts = Vec::new();
    let mut first = period.first;
    let by_day = period.last - period.first < time::Duration::days(31);
    while first <= period.last {
        let (label, last) = if by_day {
            (
                format!("{}-{:02}", u8::from(first.month()), first.day()),
                first,
            )
        } else {
            let end = first
                .replace_day(time::util::days_in_month(first.month(), first.year()))
                .unwrap_or(first);
            (
                format!("{}-{:02}", first.year(), u8::from(first.month())),
                end,
            )
        };
        let last = last.min(period.last);
        parts.push((label, Period { first, last }));
        match last.next_day() {
            Some(next) => first = next,
            None => break,
        }
    }
    parts
}

/// What a report is written from, read from one snapshot.
pub async fn read_report_inputs(
    db: &DatabaseConnection,
    kind: crate::report::Kind,
    asked: &Asked,
    now: OffsetDateTime,
) -> Result<crate::report::Inputs, DbErr> {
    let transaction = snapshot(db).await?;
    let records = records_in(&transaction, &asked.period, asked.as_of).await?;
    let bureau_wide = asked.filter.scope.is_none();
    let facts = if bureau_wide {
        Some(work_facts(&transaction, asked.as_of).await?)
    } else {
        None
    };
    transaction.commit().await?;
    let at = asked.as_of.unwrap_or(now);
    let on = china_date(at);
    let figures_of = |period: &Period, filter: &Filter| Figures {
        projection_version: u32::try_from(PROJECTION_VERSION).unwrap_or_default(),
        as_of: Some(timestamp(at)),
        ..figures(&records, period, filter, on, &asked.formula)
    };
    let online = Filter {
        channel: Some(xinfang_proto::vocabulary::Channel::Online),
        ..asked.filter.clone()
    };
    let trend = parts(&asked.period)
        .into_iter()
        .map(|(label, part)| {
            let cases = figures_of(&part, &asked.filter)
                .status
                .map_or(0, |status| status.cases);
            (label, cases)
        })
        .collect();
    Ok(crate::report::Inputs {
        kind,
        units: asked.filter.scope.clone(),
        figures: figures_of(&asked.period, &asked.filter),
        online: figures_of(&asked.period, &online),
        work: facts.map(|facts| WorkFigures {
            as_of: Some(timestamp(at)),
            ..work_figures(&records, &facts, &asked.period, on)
        }),
        trend,
    })
}
