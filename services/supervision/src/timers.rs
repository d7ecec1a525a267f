//! Durable timers, a service task: every tick, each open duty's alarms that are due fire —
//! approaching (within the warning time), overdue (past its due day), supervised (overdue
//! for the configured time) — with the letter each level sends: reminder (提醒函), warning
//! (预警函), supervision letter (督办函). Nothing is scheduled in memory: a tick looks at the
//! ledger and the alerts already fired, so a restart misses nothing; the fired alert's row
//! (its key: deadline, level, due day) makes each fire exactly once whatever the replicas;
//! the time comes from the write path's clock, which a test moves.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, SqlErr};
use time::{Date, OffsetDateTime};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::service::TaskError;
use xinfang_platform::write::{Change, Decided, WritePath};
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{AlertLevel, DeadlineAlerted};

use crate::calendar::HolidayCalendar;
use crate::calendars::Calendars;
use crate::case_record::CaseRecord;
use crate::deadlines::{DeadlineRule, start_day};
use crate::holidays;
use crate::letters::{self, LetterKind, LetterSettings};
use crate::lifecycle::Clock;
use crate::routed::SERVICE;
use crate::store::{clock, deadline_alert, letter};
use crate::view;

/// When alarms ring (practice: configurable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerSettings {
    pub interval: Duration,
    /// Days before a due day that the approaching alarm rings.
    pub warn_before_days: u16,
    /// Days past a due day that the case is supervised (督办).
    pub supervise_after_days: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Approaching,
    Overdue,
    Supervised,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Approaching, Level::Overdue, Level::Supervised];

    pub fn code(self) -> &'static str {
        match self {
            Level::Approaching => "approaching",
            Level::Overdue => "overdue",
            Level::Supervised => "supervised",
        }
    }

    fn to_proto(self) -> AlertLevel {
        match self {
            Level::Approaching => AlertLevel::Approaching,
            Level::Overdue => AlertLevel::Overdue,
            Level::Supervised => AlertLevel::Supervised,
        }
    }

    fn letter(self) -> LetterKind {
        match self {
            Level::Approaching => LetterKind::Reminder,
            Level::Overdue => LetterKind::Warning,
            Level::Supervised => LetterKind::Supervision,
        }
    }
}

/// The highest alarm a deadline due on `due` has reached on `today`. Pure.
pub fn level_reached(due: Date, today: Date, settings: &TimerSettings) -> Option<Level> {
    let days_left = (due - today).whole_days();
    if days_left < -i64::from(settings.supervise_after_days) {
        Some(Level::Supervised)
    } else if days_left < 0 {
        Some(Level::Overdue)
    } else if days_left <= i64::from(settings.warn_before_days) {
        Some(Level::Approaching)
    } else {
        None
    }
}

/// Whether a late clock is the unit's to answer for, in a letter to it.
fn unit_answers_for(clock: Clock) -> bool {
    matches!(
        clock,
        Clock::NoticeOfReceipt | Clock::Handling | Clock::Assignment | Clock::Upstream
    )
}

pub struct Timers {
    pub write: WritePath,
    pub calendars: Arc<Calendars>,
    pub settings: TimerSettings,
    pub letters: LetterSettings,
    pub bureau_code: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TimerError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Holidays(#[from] holidays::HolidaysError),
}

impl Timers {
    /// Ticks until `shutdown`. A tick that fails (the database away) is logged and tried
    /// again at the next one: nothing is lost, the ledger still holds every deadline.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), TaskError> {
        loop {
            match self.tick().await {
                Ok(0) => {}
                Ok(fired) => tracing::info!(fired, "deadline alarms fired"),
                Err(error) => {
                    tracing::warn!(error = %error, "timer tick failed; next tick retries")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(self.settings.interval) => {}
            }
        }
    }

    /// Fires every alarm that is due now; returns how many fired here.
    pub async fn tick(&self) -> Result<u32, TimerError> {
        holidays::recompute_stale(&self.write, &self.calendars, &self.bureau_code).await?;
        let today = start_day(self.write.clock.now());
        let horizon = today + time::Duration::days(i64::from(self.settings.warn_before_days));
        let windows: Vec<&str> = Clock::ALL
            .iter()
            .filter(|clock| clock.is_window())
            .map(|clock| clock.code())
            .collect();
        let due: Vec<clock::Model> = clock::Entity::find()
            .filter(clock::Column::MetOn.is_null())
            .filter(clock::Column::ClosedOn.is_null())
            .filter(clock::Column::PausedSince.is_null())
            .filter(clock::Column::Kind.is_not_in(windows))
            .filter(clock::Column::DueDay.lte(horizon))
            .all(&self.write.db)
            .await?;
        let fired_before: Vec<deadline_alert::Model> = deadline_alert::Entity::find()
            .filter(deadline_alert::Column::CaseId.is_in(due.iter().map(|c| c.case_id)))
            .all(&self.write.db)
            .await?;
        let mut fired = 0;
        for clock in due {
            let Some(level) = level_reached(clock.due_day, today, &self.settings) else {
                continue;
            };
            let done = fired_before.iter().any(|alert| {
                alert.case_id == clock.case_id
                    && alert.seq == clock.seq
                    && alert.due_day == clock.due_day
                    && alert.level == level.code()
            });
            if done {
                continue;
            }
            let alarm = Alarm {
                case_id: clock.case_id,
                seq: clock.seq,
                due: clock.due_day,
                level,
                calendar: self.calendars.current(),
                letters: self.letters.clone(),
                bureau_code: self.bureau_code.clone(),
                now: self.write.clock.now(),
            };
            match self.write.execute(alarm).await.map(|fired| fired.is_some()) {
                Ok(true) => fired += 1,
                Ok(false) => {}
                // Another replica fired it first: its row is the proof.
                Err(TimerError::Database(error))
                    if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
                {
                    tracing::debug!(case = %clock.case_id, level = level.code(), "fired by another replica");
                }
                // One case that cannot be handled must not hold up every other alarm: it is
                // logged, and tried again at the next tick.
                Err(error) => {
                    tracing::error!(case = %clock.case_id, level = level.code(), error = %error, "alarm not fired");
                }
            }
        }
        Ok(fired)
    }
}

/// One alarm of one deadline, fired in its own transaction.
struct Alarm {
    case_id: Uuid,
    seq: i32,
    due: Date,
    level: Level,
    calendar: Arc<HolidayCalendar>,
    letters: LetterSettings,
    bureau_code: String,
    now: OffsetDateTime,
}

struct AlarmState {
    case: CaseRecord,
    /// Levels of this deadline and due day fired before.
    fired: Vec<String>,
    /// The letter's number, drawn when the alarm sends one.
    serial: Option<i32>,
}

struct Fired {
    case: CaseRecord,
    alerts: Vec<deadline_alert::Model>,
    letter: Option<letter::Model>,
}

impl Alarm {
    fn sends_letter(&self, case: &CaseRecord, clock: Clock) -> bool {
        unit_answers_for(clock) && !case.row.unit_code.is_empty() && case.stage.is_at_a_unit()
    }
}

impl Change for Alarm {
    type State = Option<AlarmState>;
    type Outcome = Option<Fired>;
    type Error = TimerError;

    async fn load(
        &self,
        transaction: &DatabaseTransaction,
    ) -> Result<Option<AlarmState>, TimerError> {
        let fired: Vec<String> = deadline_alert::Entity::find()
            .filter(deadline_alert::Column::CaseId.eq(self.case_id))
            .filter(deadline_alert::Column::Seq.eq(self.seq))
            .filter(deadline_alert::Column::DueDay.eq(self.due))
            .all(transaction)
            .await?
            .into_iter()
            .map(|alert| alert.level)
            .collect();
        if fired.iter().any(|level| level == self.level.code()) {
            return Ok(None);
        }
        let Some(case) = CaseRecord::load_for_update(transaction, self.case_id).await? else {
            return Ok(None);
        };
        // The deadline as the tick saw it: still open, still due that day.
        let Some(entry) = usize::try_from(self.seq)
            .ok()
            .and_then(|seq| case.ledger.entries.get(seq))
            .filter(|entry| {
                entry.due == self.due
                    && entry.met_on.is_none()
                    && entry.closed_on.is_none()
                    && entry.paused_since.is_none()
            })
        else {
            return Ok(None);
        };
        let serial = if self.sends_letter(&case, entry.clock) {
            Some(
                letters::next_serial(
                    transaction,
                    self.level.letter(),
                    letters::letter_year(self.now),
                )
                .await?,
            )
        } else {
            None
        };
        Ok(Some(AlarmState {
            case,
            fired,
            serial,
        }))
    }

    fn decide(
        &self,
        state: Option<AlarmState>,
        now: OffsetDateTime,
    ) -> Result<Decided<Option<Fired>>, TimerError> {
        let Some(AlarmState {
            mut case,
            fired,
            serial,
        }) = state
        else {
            return Ok(Decided::quietly(None));
        };
        let Some(entry) = usize::try_from(self.seq)
            .ok()
            .and_then(|seq| case.ledger.entries.get(seq))
            .cloned()
        else {
            return Ok(Decided::quietly(None));
        };
        let mut events = Vec::new();
        let letter = serial.map(|serial| {
            let issued = letters::issue(
                &mut case,
                self.level.letter(),
                (letters::letter_year(self.now), serial),
                None,
                DeadlineRule::days(self.letters.reply_days(self.level.letter())),
                "timer",
                &self.letters,
                &self.calendar,
                now,
                Some((entry.clock, entry.due)),
            );
            events.push(issued.event);
            issued.letter
        });
        let letter_number = letter
            .as_ref()
            .map(|l| l.number.clone())
            .unwrap_or_default();
        // A lower alarm not rung yet (the service was down, or the deadline was set short)
        // is recorded as passed: a reminder after the due day would only confuse.
        let alerts: Vec<deadline_alert::Model> = Level::ALL
            .into_iter()
            .filter(|level| *level <= self.level && !fired.iter().any(|f| f == level.code()))
            .map(|level| deadline_alert::Model {
                case_id: self.case_id,
                seq: self.seq,
                level: level.code().to_owned(),
                due_day: self.due,
                fired_at: now,
                letter_number: if level == self.level {
                    letter_number.clone()
                } else {
                    String::new()
                },
            })
            .collect();
        let unit = if case.row.unit_code.is_empty() {
            self.bureau_code.clone()
        } else {
            case.row.unit_code.clone()
        };
        events.insert(
            0,
            OutgoingEvent::new(
                subjects::deadline_alerted(&unit, self.level.code()),
                SERVICE,
                self.case_id,
                now,
                &DeadlineAlerted {
                    case_id: self.case_id.to_string(),
                    case_number: case.row.case_number.clone(),
                    deadline: Some(view::deadline(&entry, start_day(now))),
                    level: self.level.to_proto().into(),
                    letter_number,
                },
            ),
        );
        case.row.updated_at = now;
        Ok(Decided {
            outcome: Some(Fired {
                case,
                alerts,
                letter,
            }),
            events,
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        fired: &Option<Fired>,
    ) -> Result<(), TimerError> {
        let Some(fired) = fired else { return Ok(()) };
        // First: a replica that fired the same alarm makes this one fail here, and roll back
        // its letter number with it.
        deadline_alert::Entity::insert_many(
            fired
                .alerts
                .iter()
                .cloned()
                .map(deadline_alert::ActiveModel::from),
        )
        .exec_without_returning(transaction)
        .await?;
        if let Some(letter) = &fired.letter {
            letter::Entity::insert(letter::ActiveModel::from(letter.clone()))
                .exec_without_returning(transaction)
                .await?;
            fired.case.save(transaction).await?;
        }
        tracing::info!(case = %fired.case.row.case_number, level = self.level.code(), "deadline alarm fired");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const SETTINGS: TimerSettings = TimerSettings {
        interval: Duration::from_secs(30),
        warn_before_days: 3,
        supervise_after_days: 5,
    };

    #[test]
    fn the_alarm_rises_from_approaching_to_overdue_to_supervised() {
        let due = date!(2026 - 05 - 06);
        let cases = [
            (date!(2026 - 05 - 02), None),
            (date!(2026 - 05 - 03), Some(Level::Approaching)),
            (date!(2026 - 05 - 06), Some(Level::Approaching)),
            (date!(2026 - 05 - 07), Some(Level::Overdue)),
            (date!(2026 - 05 - 11), Some(Level::Overdue)),
            (date!(2026 - 05 - 12), Some(Level::Supervised)),
        ];
        for (today, expected) in cases {
            assert_eq!(level_reached(due, today, &SETTINGS), expected, "{today}");
        }
    }

    #[test]
    fn only_the_units_own_duties_bring_it_letters() {
        let lettered: Vec<Clock> = Clock::ALL
            .iter()
            .copied()
            .filter(|clock| unit_answers_for(*clock))
            .collect();
        assert_eq!(
            lettered,
            vec![
                Clock::NoticeOfReceipt,
                Clock::Upstream,
                Clock::Handling,
                Clock::Assignment
            ]
        );
    }
}
