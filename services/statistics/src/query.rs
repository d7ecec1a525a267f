//! Reading the figures: the records of a period from one snapshot of the database, as they
//! stand (the case records) or as they stood at a moment (folded again from the facts up to
//! it), then the plain formulas.

use sea_orm::{
    AccessMode, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, IsolationLevel, QueryFilter, QueryOrder,
    TransactionTrait,
};
use time::OffsetDateTime;
use xinfang_platform::auth::within_units;
use xinfang_platform::wire::{china_date, timestamp};
use xinfang_proto::Name;
use xinfang_proto::routing::v1::DirectoryPublished;
use xinfang_proto::statistics::v1::{Figures, WorkFigures};
use xinfang_proto::supervision::v1::{
    InspectionRecorded, LeaderCaseChanged, LetterIssued, ReceptionRecorded, WatchListChanged,
};

use crate::facts::{self, Stored};
use crate::figures::{Filter, figures, is_case};
use crate::formula::Formula;
use crate::period::Period;
use crate::project::{PROJECTION_VERSION, happened_by, records_as_of};
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

/// The rows `filter` may admit, as the case records stand now: read in the database, so a
/// unit's or a channel's figures do not carry the whole city's rows. Only a narrowing: the
/// formulas apply the filter exactly.
fn narrowed(filter: &Filter) -> Condition {
    use case_record::Column;
    let mut condition = Condition::all();
    if let Some(channel) = filter.channel {
        condition = condition.add(Column::Channel.eq(channel.code()));
    }
    if let Some(source) = filter.source {
        condition = condition.add(Column::Sources.like(format!("%/{}/%", source.code())));
    }
    if let Some(unit) = &filter.unit {
        condition = condition.add(within_units(Column::LeadPath, std::slice::from_ref(unit)));
    }
    if let Some(units) = &filter.scope {
        condition = condition.add(within_units(Column::LeadPath, units));
    }
    if let Some(category) = &filter.matter_category {
        condition = condition.add(Column::MatterCategory.eq(category.as_str()));
    }
    if let Some(territory) = &filter.territory_code {
        condition = condition.add(Column::TerritoryCode.eq(territory.as_str()));
    }
    if let Some(track) = filter.track {
        condition = condition.add(Column::Track.eq(track.code()));
    }
    condition
}

/// The records of the cases registered in `period`, now or as they stood at `as_of`. As
/// things stand now, the database narrows them to what `filter` may admit; as they stood, a
/// case's unit or category may have been another, so every case of the period is folded.
pub async fn records_in<C: ConnectionTrait>(
    db: &C,
    period: &Period,
    filter: Option<&Filter>,
    as_of: Option<OffsetDateTime>,
) -> Result<Vec<CaseRecord>, DbErr> {
    let mut query = case_record::Entity::find()
        .filter(case_record::Column::RegisteredOn.between(period.first, period.last));
    if let (Some(filter), None) = (filter, as_of) {
        query = query.filter(narrowed(filter));
    }
    let rows = query
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
    let records = records_in(
        &transaction,
        &asked.period,
        Some(&asked.filter),
        asked.as_of,
    )
    .await?;
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
        query = query.filter(happened_by(until));
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
    let records = records_in(&transaction, period, None, as_of).await?;
    let facts = work_facts(&transaction, as_of).await?;
    transaction.commit().await?;
    let at = as_of.unwrap_or(now);
    Ok(WorkFigures {
        as_of: Some(timestamp(at)),
        ..work_figures(&records, &facts, period, china_date(at))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grain {
    Day,
    Month,
    Year,
}

/// A trend's bars: days up to a month, months up to three years, years beyond.
fn grain(period: &Period) -> Grain {
    let days = (period.last - period.first).whole_days();
    if days < 31 {
        Grain::Day
    } else if days < 3 * 366 {
        Grain::Month
    } else {
        Grain::Year
    }
}

fn label(day: time::Date, grain: Grain) -> String {
    match grain {
        Grain::Day => format!("{:02}-{:02}", u8::from(day.month()), day.day()),
        Grain::Month => format!("{}-{:02}", day.year(), u8::from(day.month())),
        Grain::Year => day.year().to_string(),
    }
}

/// The cases (件) of each day, month or year of the period, in one pass over the records.
pub fn trend(records: &[CaseRecord], period: &Period, filter: &Filter) -> Vec<(String, u64)> {
    let grain = grain(period);
    let mut bars: Vec<(String, u64)> = Vec::new();
    let mut day = period.first;
    while day <= period.last {
        bars.push((label(day, grain), 0));
        // The first day of the next bar.
        let next = match grain {
            Grain::Day => day.next_day(),
            Grain::Month => {
                let (year, month) = match day.month() {
                    time::Month::December => (day.year() + 1, time::Month::January),
                    month => (day.year(), month.next()),
                };
                time::Date::from_calendar_date(year, month, 1).ok()
            }
            Grain::Year => {
                time::Date::from_calendar_date(day.year() + 1, time::Month::January, 1).ok()
            }
        };
        match next {
            Some(next) => day = next,
            None => break,
        }
    }
    let at: std::collections::HashMap<String, usize> = bars
        .iter()
        .enumerate()
        .map(|(n, (name, _))| (name.clone(), n))
        .collect();
    for record in records.iter().filter(|r| is_case(r) && filter.admits(r)) {
        let Some(day) = record.registered_on.filter(|day| period.contains(*day)) else {
            continue;
        };
        if let Some(n) = at.get(&label(day, grain)) {
            bars[*n].1 += 1;
        }
    }
    bars
}

/// The units' names in the newest directory routing published up to `until`.
async fn unit_names<C: ConnectionTrait>(
    db: &C,
    until: Option<OffsetDateTime>,
) -> Result<std::collections::BTreeMap<String, String>, DbErr> {
    let mut query = event_fact::Entity::find()
        .filter(event_fact::Column::EventType.eq(DirectoryPublished::full_name()))
        .order_by_desc(event_fact::Column::OccurredAt)
        .order_by_desc(event_fact::Column::EventId);
    if let Some(until) = until {
        query = query.filter(happened_by(until));
    }
    let newest = query.one(db).await?;
    let directory = newest.and_then(|row| match facts::decode(&row.event_type, &row.payload) {
        Ok(facts::Fact::Directory(directory)) => Some(directory),
        _ => None,
    });
    Ok(directory
        .map(|directory| {
            directory
                .units
                .into_iter()
                .map(|unit| (unit.code, unit.name))
                .collect()
        })
        .unwrap_or_default())
}

/// What a report is written from, read from one snapshot.
pub async fn read_report_inputs(
    db: &DatabaseConnection,
    kind: crate::report::Kind,
    asked: &Asked,
    now: OffsetDateTime,
) -> Result<crate::report::Inputs, DbErr> {
    let transaction = snapshot(db).await?;
    let records = records_in(
        &transaction,
        &asked.period,
        Some(&asked.filter),
        asked.as_of,
    )
    .await?;
    let bureau_wide = asked.filter.scope.is_none();
    let facts = if bureau_wide {
        Some(work_facts(&transaction, asked.as_of).await?)
    } else {
        None
    };
    let unit_names = unit_names(&transaction, asked.as_of).await?;
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
    let trend = trend(&records, &asked.period, &asked.filter);
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
        unit_names,
    })
}
