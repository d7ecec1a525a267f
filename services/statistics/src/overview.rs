//! The overview leaders read first: every case so far by source, channel, unit and where it
//! stands today.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QuerySelect};
use time::OffsetDateTime;
use xinfang_platform::wire::{self, china_date};
use xinfang_proto::statistics::v1::{Count, Overview};

use crate::figures::{Status, is_case, status};
use crate::query::snapshot;
use crate::record::CaseRecord;
use crate::store::{case_record, event_fact};

fn counted(keys: impl Iterator<Item = String>) -> Vec<Count> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for key in keys {
        *counts.entry(key).or_default() += 1;
    }
    let mut counts: Vec<Count> = counts
        .into_iter()
        .map(|(key, cases)| Count { key, cases })
        .collect();
    counts.sort_by(|a, b| b.cases.cmp(&a.cases).then_with(|| a.key.cmp(&b.key)));
    counts
}

/// Every count is read from the same snapshot, so the totals and the breakdowns agree even
/// while events keep arriving.
pub async fn consistent_overview(
    db: &DatabaseConnection,
    now: OffsetDateTime,
) -> Result<Overview, DbErr> {
    let transaction = snapshot(db).await?;
    let records: Vec<CaseRecord> = case_record::Entity::find()
        .all(&transaction)
        .await?
        .into_iter()
        .map(CaseRecord::from)
        .collect();
    let latest: Option<Option<OffsetDateTime>> = event_fact::Entity::find()
        .select_only()
        .column_as(Expr::col(event_fact::Column::OccurredAt).max(), "latest")
        .into_tuple()
        .one(&transaction)
        .await?;
    transaction.commit().await?;
    let today = china_date(now);
    let cases: Vec<&CaseRecord> = records
        .iter()
        .filter(|r| r.registered_on.is_some() && is_case(r))
        .collect();
    let status_code = |record: &CaseRecord| match status(record, today) {
        Status::Done => "done",
        Status::InDeadline => "in-deadline",
        Status::Overdue => "overdue",
    };
    Ok(Overview {
        cases: u64::try_from(cases.len()).unwrap_or(u64::MAX),
        by_source: counted(
            cases
                .iter()
                .flat_map(|r| r.sources.iter().map(|s| s.code().to_owned())),
        ),
        by_channel: counted(
            cases
                .iter()
                .filter_map(|r| r.channel)
                .map(|c| c.code().to_owned()),
        ),
        by_unit: counted(cases.iter().filter_map(|r| r.unit_code.clone())),
        by_status: counted(cases.iter().map(|r| status_code(r).to_owned())),
        as_of: latest.flatten().map(wire::timestamp),
        wrong_routings_by_unit: counted(
            records
                .iter()
                .flat_map(|r| r.wrongly_routed_to.iter().cloned()),
        ),
        timelines_opened: u64::try_from(cases.iter().filter(|r| r.timeline_opened).count())
            .unwrap_or(u64::MAX),
    })
}
