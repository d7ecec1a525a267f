//! A case's deadline ledger: every clock the lifecycle opened, with its legal basis, its
//! start, its counting rule, its extensions and pauses, and when it was met. Pure: the
//! lifecycle's effects and the calendar in, the ledger's state out; the service stores it.
//!
//! The due day is always recomputed from the record (start, rule, days added), never
//! patched, so loading a year's holiday notice recomputes a provisional deadline exactly
//! ([`DeadlineLedger::recompute`]).

use time::Date;

use crate::calendar::HolidayCalendar;
use crate::deadlines::{self, DeadlineRule, Span};
use crate::lifecycle::{Clock, Effect};

/// The article each clock comes from.
pub fn legal_basis(clock: Clock) -> &'static str {
    match clock {
        Clock::NoticeOfReceipt | Clock::Objection => "Art 23",
        Clock::Handling => "Art 32",
        Clock::ReviewRequest | Clock::ReviewDecision => "Art 35",
        Clock::ReReviewRequest | Clock::ReReviewDecision => "Art 36",
    }
}

/// One clock on the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub clock: Clock,
    pub basis: &'static str,
    pub start: Date,
    pub rule: DeadlineRule,
    /// Days added by an approved extension.
    pub extended_by: u16,
    /// Days not counted (a re-review hearing).
    pub paused_days: u16,
    pub paused_since: Option<Date>,
    pub due: Date,
    /// Counted into a year whose holiday notice is not loaded: recomputed when it is.
    pub provisional: bool,
    pub met_on: Option<Date>,
    /// No longer running, neither met nor missed.
    pub closed_on: Option<Date>,
}

/// Where a clock stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    Running { due: Date },
    Paused,
    Overdue { due: Date },
    MetInTime,
    MetLate { days_late: i64 },
    Closed,
}

impl LedgerEntry {
    pub fn state(&self, today: Date) -> ClockState {
        if let Some(met) = self.met_on {
            return if met <= self.due {
                ClockState::MetInTime
            } else {
                ClockState::MetLate {
                    days_late: (met - self.due).whole_days(),
                }
            };
        }
        if self.closed_on.is_some() {
            return ClockState::Closed;
        }
        if self.paused_since.is_some() {
            return ClockState::Paused;
        }
        if today > self.due {
            ClockState::Overdue { due: self.due }
        } else {
            ClockState::Running { due: self.due }
        }
    }

    fn counted_rule(&self) -> DeadlineRule {
        let added = self.extended_by + self.paused_days;
        let span = match self.rule.span {
            Span::CalendarDays(days) => Span::CalendarDays(days + added),
            Span::WorkingDays(days) => Span::WorkingDays(days + added),
        };
        DeadlineRule { span, ..self.rule }
    }

    fn compute(&mut self, calendar: &HolidayCalendar) {
        let deadline = deadlines::deadline(self.start, self.counted_rule(), calendar);
        self.due = deadline.due;
        self.provisional = deadline.provisional;
    }
}

/// A due day that moved when the calendar changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub clock: Clock,
    pub from: Date,
    pub to: Date,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadlineLedger {
    pub entries: Vec<LedgerEntry>,
}

impl DeadlineLedger {
    /// The open entry of a clock: the latest one not met or closed.
    fn open(&mut self, clock: Clock) -> Option<&mut LedgerEntry> {
        self.entries.iter_mut().rev().find(|entry| {
            entry.clock == clock && entry.met_on.is_none() && entry.closed_on.is_none()
        })
    }

    /// Applies one of the lifecycle's effects. Effects that are not about clocks (a
    /// follow-up, finality) leave the ledger as it is.
    pub fn apply(&mut self, effect: &Effect, calendar: &HolidayCalendar) {
        match *effect {
            Effect::Open { clock, start, rule } => {
                let mut entry = LedgerEntry {
                    clock,
                    basis: legal_basis(clock),
                    start,
                    rule,
                    extended_by: 0,
                    paused_days: 0,
                    paused_since: None,
                    due: start,
                    provisional: false,
                    met_on: None,
                    closed_on: None,
                };
                entry.compute(calendar);
                self.entries.push(entry);
            }
            Effect::Meet { clock, on } => {
                if let Some(entry) = self.open(clock) {
                    entry.met_on = Some(on);
                }
            }
            Effect::Close { clock, on } => {
                if let Some(entry) = self.open(clock) {
                    entry.closed_on = Some(on);
                }
            }
            Effect::Extend { clock, days } => {
                if let Some(entry) = self.open(clock) {
                    entry.extended_by += days;
                    entry.compute(calendar);
                }
            }
            Effect::Pause { clock, on } => {
                if let Some(entry) = self.open(clock) {
                    entry.paused_since = Some(on);
                }
            }
            Effect::Resume { clock, on } => {
                if let Some(entry) = self.open(clock)
                    && let Some(since) = entry.paused_since.take()
                {
                    let paused = (on - since).whole_days().max(0);
                    entry.paused_days += u16::try_from(paused).unwrap_or(u16::MAX);
                    entry.compute(calendar);
                }
            }
            Effect::FollowUp | Effect::MatterFinal => {}
        }
    }

    /// Recomputes every provisional due day with a calendar that knows more years (a new
    /// holiday notice loaded); returns each one that moved.
    pub fn recompute(&mut self, calendar: &HolidayCalendar) -> Vec<Moved> {
        let mut moved = Vec::new();
        for entry in self.entries.iter_mut().filter(|entry| entry.provisional) {
            let from = entry.due;
            entry.compute(calendar);
            if entry.due != from {
                moved.push(Moved {
                    clock: entry.clock,
                    from,
                    to: entry.due,
                });
            }
        }
        moved
    }

    /// The clocks overdue on `today`.
    pub fn overdue(&self, today: Date) -> impl Iterator<Item = &LedgerEntry> {
        self.entries
            .iter()
            .filter(move |entry| matches!(entry.state(today), ClockState::Overdue { .. }))
    }
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
