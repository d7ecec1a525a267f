//! The legal calendar as data: an administrator loads a year's holiday notice (or corrects
//! one), recorded with the notice it came from; every deadline still to come (and every
//! provisional one) is recomputed in the same transaction, an event per due day that moved. Never a silent guess: a
//! deadline still counted with an older calendar is caught by [`recompute_stale`], which
//! the timers run (another replica may have loaded the notice).

use std::collections::BTreeSet;
use std::sync::Arc;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use time::{Date, OffsetDateTime};
use uuid::Uuid;
use xinfang_platform::auth::Authorized;
use xinfang_platform::grpc::FieldViolation;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided, WritePath};
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{self as api, DeadlineMoved};

use crate::calendar::{CalendarError, HolidayCalendar};
use crate::calendars::Calendars;
use crate::case_record::CaseRecord;
use crate::deadlines::start_day;
use crate::routed::SERVICE;
use crate::store::{clock, holiday_notice};
use crate::view;

#[derive(Debug, thiserror::Error)]
pub enum HolidaysError {
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("a stored holiday notice is not readable: {0}")]
    Stored(#[from] CalendarError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// A year's notice, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    pub year: i32,
    pub days: Vec<NoticeDay>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoticeDay {
    pub name: String,
    #[serde(serialize_with = "iso_date")]
    pub date: Date,
    pub is_off_day: bool,
}

fn iso_date<S: serde::Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&date.to_string())
}

impl NewNotice {
    /// The notice in holiday-cn's JSON shape, the shape the calendar reads.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "year": self.year, "days": self.days }).to_string()
    }
}

/// The year a stored notice arranges.
pub fn notice_year(text: &str) -> Result<i32, CalendarError> {
    #[derive(serde::Deserialize)]
    struct Year {
        year: i32,
    }
    serde_json::from_str::<Year>(text)
        .map(|notice| notice.year)
        .map_err(|error| CalendarError::Malformed(error.to_string()))
}

pub fn parse(request: &api::LoadHolidayNoticeRequest) -> Result<NewNotice, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    if !(2000..=2100).contains(&request.year) {
        violations.push(FieldViolation::new("year", "must be 2000 to 2100"));
    }
    let source = request.source.trim().to_owned();
    if source.is_empty() {
        violations.push(FieldViolation::new(
            "source",
            "is required: the official notice this arrangement comes from",
        ));
    }
    if request.days.is_empty() {
        violations.push(FieldViolation::new(
            "days",
            "is required: the holidays and make-up working days the notice names",
        ));
    }
    let mut seen = BTreeSet::new();
    let mut days = Vec::new();
    for (index, day) in request.days.iter().enumerate() {
        let field = format!("days[{index}].date");
        let Some(date) = day.date.as_ref() else {
            violations.push(FieldViolation::new(field, "is required"));
            continue;
        };
        match wire::from_calendar_date(date) {
            Err(why) => violations.push(FieldViolation::new(field, why)),
            // The New Year break may reach into the adjacent years.
            Ok(date) if (date.year() - request.year).abs() > 1 => violations.push(
                FieldViolation::new(field, format!("{date} is not near {}", request.year)),
            ),
            Ok(date) if !seen.insert(date) => {
                violations.push(FieldViolation::new(field, format!("{date} is named twice")));
            }
            Ok(date) => days.push(NoticeDay {
                name: day.name.trim().to_owned(),
                date,
                is_off_day: day.off_day,
            }),
        }
    }
    if violations.is_empty() {
        Ok(NewNotice {
            year: request.year,
            days,
            source,
        })
    } else {
        Err(violations)
    }
}

/// The calendar of every stored notice.
pub async fn stored_calendar<C: ConnectionTrait>(db: &C) -> Result<HolidayCalendar, HolidaysError> {
    let notices = holiday_notice::Entity::find()
        .order_by_asc(holiday_notice::Column::Year)
        .all(db)
        .await?;
    Ok(HolidayCalendar::from_notices(
        notices.iter().map(|n| n.days.as_str()),
    )?)
}

/// Cases with a deadline counted with another calendar than `version` that it could
/// still change (see `LedgerEntry::counts_with_another`), locked in case order.
async fn stale_cases<C: ConnectionTrait>(db: &C, version: &str) -> Result<Vec<CaseRecord>, DbErr> {
    let ids: Vec<Uuid> = clock::Entity::find()
        .select_only()
        .column(clock::Column::CaseId)
        .distinct()
        .filter(clock::Column::CalendarVersion.ne(version))
        .filter(
            Condition::any()
                .add(clock::Column::Provisional.eq(true))
                .add(
                    Condition::all()
                        .add(clock::Column::MetOn.is_null())
                        .add(clock::Column::ClosedOn.is_null()),
                ),
        )
        .order_by_asc(clock::Column::CaseId)
        .into_tuple()
        .all(db)
        .await?;
    let mut cases = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(case) = CaseRecord::load_for_update(db, id).await? {
            cases.push(case);
        }
    }
    Ok(cases)
}

/// What recomputing did: the cases that changed, the events, the counts.
#[derive(Debug, Default)]
pub struct Recomputed {
    pub cases: Vec<CaseRecord>,
    pub events: Vec<OutgoingEvent>,
    pub recomputed: u32,
    pub moved: u32,
}

/// Recomputes, with `calendar`, every deadline of `cases` counted with another that it could
/// still change. Pure.
pub fn recompute(
    cases: Vec<CaseRecord>,
    calendar: &HolidayCalendar,
    bureau_code: &str,
    now: OffsetDateTime,
) -> Recomputed {
    let version = calendar.version();
    let today = start_day(now);
    let mut done = Recomputed::default();
    for mut case in cases {
        let stale = case
            .ledger
            .entries
            .iter()
            .filter(|e| e.counts_with_another(&version))
            .count();
        if stale == 0 {
            continue;
        }
        done.recomputed += u32::try_from(stale).unwrap_or(u32::MAX);
        let moved = case.ledger.recompute(calendar);
        let unit = if case.row.unit_code.is_empty() {
            bureau_code.to_owned()
        } else {
            case.row.unit_code.clone()
        };
        for change in &moved {
            let entry = &case.ledger.entries[change.entry];
            done.events.push(OutgoingEvent::new(
                subjects::deadline_moved(&unit),
                SERVICE,
                case.row.case_id,
                now,
                &DeadlineMoved {
                    case_id: case.row.case_id.to_string(),
                    case_number: case.row.case_number.clone(),
                    kind: entry.clock.to_proto().into(),
                    reference: entry.reference.clone(),
                    from: Some(wire::calendar_date(change.from)),
                    deadline: Some(view::deadline(entry, today)),
                    calendar_version: version.clone(),
                },
            ));
        }
        done.moved += u32::try_from(moved.len()).unwrap_or(u32::MAX);
        case.row.updated_at = now;
        done.cases.push(case);
    }
    done
}

/// The calendar of the stored notices of other years and one new notice.
fn calendar_with(
    others: &[holiday_notice::Model],
    notice: &str,
) -> Result<HolidayCalendar, CalendarError> {
    HolidayCalendar::from_notices(
        others
            .iter()
            .map(|n| n.days.as_str())
            .chain(std::iter::once(notice)),
    )
}

/// Loading one notice: stored, and every deadline it could change recomputed with it.
pub struct LoadNotice {
    pub notice: NewNotice,
    pub authorized: Authorized,
    pub bureau_code: String,
}

pub struct Loaded {
    pub notice: holiday_notice::Model,
    pub calendar: HolidayCalendar,
    pub recomputed: Recomputed,
}

impl Change for LoadNotice {
    type State = (Vec<holiday_notice::Model>, Vec<CaseRecord>);
    type Outcome = Loaded;
    type Error = HolidaysError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, HolidaysError> {
        let others = holiday_notice::Entity::find()
            .filter(holiday_notice::Column::Year.ne(self.notice.year))
            .order_by_asc(holiday_notice::Column::Year)
            .all(transaction)
            .await?;
        let version = calendar_with(&others, &self.notice.to_json())?.version();
        let cases = stale_cases(transaction, &version).await?;
        Ok((others, cases))
    }

    fn decide(
        &self,
        (others, cases): Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Loaded>, HolidaysError> {
        let text = self.notice.to_json();
        let calendar = calendar_with(&others, &text)?;
        let mut recomputed = recompute(cases, &calendar, &self.bureau_code, now);
        let events = std::mem::take(&mut recomputed.events);
        Ok(Decided {
            outcome: Loaded {
                notice: holiday_notice::Model {
                    year: self.notice.year,
                    days: text,
                    source: self.notice.source.clone(),
                    loaded_at: now,
                    loaded_by: self.authorized.caller.subject.clone(),
                },
                calendar,
                recomputed,
            },
            events,
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        loaded: &Loaded,
    ) -> Result<(), HolidaysError> {
        holiday_notice::Entity::delete_by_id(loaded.notice.year)
            .exec(transaction)
            .await?;
        let notice = &loaded.notice;
        holiday_notice::Entity::insert(holiday_notice::ActiveModel {
            year: Set(notice.year),
            days: Set(notice.days.clone()),
            source: Set(notice.source.clone()),
            loaded_at: Set(notice.loaded_at),
            loaded_by: Set(notice.loaded_by.clone()),
        })
        .exec_without_returning(transaction)
        .await?;
        for case in &loaded.recomputed.cases {
            case.save(transaction).await?;
        }
        self.authorized
            .audit_in(
                transaction,
                None,
                &format!(
                    "loaded the {} holiday notice ({})",
                    notice.year, notice.source
                ),
            )
            .await?;
        tracing::info!(year = notice.year, source = %notice.source, moved = loaded.recomputed.moved, "holiday notice loaded");
        Ok(())
    }
}

/// Brings the shared calendar up to the stored notices and recomputes any provisional
/// deadline counted with an older calendar (a replica that had not seen a load yet).
pub async fn recompute_stale(
    write: &WritePath,
    calendars: &Arc<Calendars>,
    bureau_code: &str,
) -> Result<u32, HolidaysError> {
    let calendar = stored_calendar(&write.db).await?;
    if calendar != *calendars.current() {
        tracing::info!(version = %calendar.version(), "holiday calendar changed");
        calendars.replace(calendar.clone());
    }
    write
        .execute(RecomputeStale {
            calendar,
            bureau_code: bureau_code.to_owned(),
        })
        .await
        .map(|cases| u32::try_from(cases.len()).unwrap_or(u32::MAX))
}

struct RecomputeStale {
    calendar: HolidayCalendar,
    bureau_code: String,
}

impl Change for RecomputeStale {
    type State = Vec<CaseRecord>;
    type Outcome = Vec<CaseRecord>;
    type Error = HolidaysError;

    async fn load(
        &self,
        transaction: &DatabaseTransaction,
    ) -> Result<Vec<CaseRecord>, HolidaysError> {
        Ok(stale_cases(transaction, &self.calendar.version()).await?)
    }

    fn decide(
        &self,
        cases: Vec<CaseRecord>,
        now: OffsetDateTime,
    ) -> Result<Decided<Vec<CaseRecord>>, HolidaysError> {
        let done = recompute(cases, &self.calendar, &self.bureau_code, now);
        Ok(Decided {
            outcome: done.cases,
            events: done.events,
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        cases: &Vec<CaseRecord>,
    ) -> Result<(), HolidaysError> {
        for case in cases {
            case.save(transaction).await?;
        }
        Ok(())
    }
}
