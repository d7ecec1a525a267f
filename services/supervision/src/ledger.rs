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
        Clock::Forward | Clock::Assignment => "Art 22",
        Clock::Upstream => "set by the higher bureau",
        Clock::LetterReply => "Art 40",
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
    /// Which deadline of its kind: a higher bureau's case number, a letter's number; empty
    /// for the procedure's own clocks.
    pub reference: String,
    pub basis: String,
    /// What started it: the action (`signed-for`, `accepted`), `registered`, a letter.
    pub start_event: String,
    pub start: Date,
    pub rule: DeadlineRule,
    /// Days added by an approved extension, and who approved it, why, and when the
    /// petitioner was told.
    pub extended_by: u16,
    pub extension: Option<ExtensionNote>,
    /// Days not counted (a re-review hearing).
    pub paused_days: u16,
    pub paused_since: Option<Date>,
    pub due: Date,
    /// Counted into a year whose holiday notice is not loaded: recomputed when it is.
    pub provisional: bool,
    /// The calendar the due day was counted with ([`HolidayCalendar::version`]).
    pub calendar_version: String,
    pub met_on: Option<Date>,
    /// No longer running, neither met nor missed.
    pub closed_on: Option<Date>,
}

/// Who approved an extension, why, and when the petitioner was told (Art 32).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionNote {
    pub approved_by: String,
    pub reason: String,
    pub petitioner_told_on: Date,
}

/// Where a clock stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    Running {
        due: Date,
    },
    Paused,
    /// A duty not done by its due day.
    Overdue {
        due: Date,
    },
    /// A window (to object, to ask for review) that ran out unused: nobody is late.
    Lapsed {
        due: Date,
    },
    MetInTime,
    MetLate {
        days_late: i64,
    },
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("no {0:?} clock is open on this case")]
    NoOpenClock(Clock),
    #[error("the {0:?} clock counts working days: a pause counts calendar days")]
    PauseOnWorkingDays(Clock),
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
        if today > self.due && self.clock.is_window() {
            ClockState::Lapsed { due: self.due }
        } else if today > self.due {
            ClockState::Overdue { due: self.due }
        } else {
            ClockState::Running { due: self.due }
        }
    }

    /// Whether recomputing with the calendar of `version` could change it: counted with
    /// another calendar, and still to come (or provisional).
    pub fn counts_with_another(&self, version: &str) -> bool {
        let open = self.met_on.is_none() && self.closed_on.is_none();
        (self.provisional || open) && self.calendar_version != version
    }

    fn counted_rule(&self) -> DeadlineRule {
        let added = self.extended_by.saturating_add(self.paused_days);
        let span = match self.rule.span {
            Span::CalendarDays(days) => Span::CalendarDays(days.saturating_add(added)),
            Span::WorkingDays(days) => Span::WorkingDays(days.saturating_add(self.extended_by)),
            Span::SetDay(day) => Span::SetDay(day),
        };
        DeadlineRule { span, ..self.rule }
    }

    fn compute(&mut self, calendar: &HolidayCalendar) {
        let deadline = deadlines::deadline(self.start, self.counted_rule(), calendar);
        self.due = deadline.due;
        self.provisional = deadline.provisional;
        self.calendar_version = calendar.version();
    }
}

/// A due day that moved when the calendar changed: which entry, from, to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub entry: usize,
    pub from: Date,
    pub to: Date,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadlineLedger {
    pub entries: Vec<LedgerEntry>,
}

impl DeadlineLedger {
    fn open_or_err(&mut self, clock: Clock) -> Result<&mut LedgerEntry, LedgerError> {
        self.open(clock).ok_or(LedgerError::NoOpenClock(clock))
    }

    /// The open entry of a clock: the latest one not met or closed.
    fn open(&mut self, clock: Clock) -> Option<&mut LedgerEntry> {
        self.entries.iter_mut().rev().find(|entry| {
            entry.clock == clock && entry.met_on.is_none() && entry.closed_on.is_none()
        })
    }

    /// The due day of a clock's open entry: what the lifecycle checks a late extension or
    /// hearing against.
    pub fn due(&self, clock: Clock) -> Option<Date> {
        self.entries
            .iter()
            .rev()
            .find(|entry| {
                entry.clock == clock && entry.met_on.is_none() && entry.closed_on.is_none()
            })
            .map(|entry| entry.due)
    }

    /// Applies one of the lifecycle's effects. Effects that are not about clocks (an
    /// opinion, an evaluation, a follow-up, finality) leave the ledger as it is; one about a
    /// clock that is not open is an error, never silently dropped.
    pub fn apply(
        &mut self,
        effect: &Effect,
        calendar: &HolidayCalendar,
    ) -> Result<(), LedgerError> {
        match *effect {
            Effect::Open { clock, start, rule } => {
                self.open_entry(clock, String::new(), start, rule, calendar);
            }
            Effect::Meet { clock, on } => self.open_or_err(clock)?.met_on = Some(on),
            Effect::Close { clock, on } => self.open_or_err(clock)?.closed_on = Some(on),
            Effect::Extend { clock, days } => {
                let entry = self.open_or_err(clock)?;
                entry.extended_by = entry.extended_by.saturating_add(days);
                entry.compute(calendar);
            }
            Effect::Pause { clock, on } => {
                let entry = self.open_or_err(clock)?;
                if matches!(entry.rule.span, Span::WorkingDays(_)) {
                    return Err(LedgerError::PauseOnWorkingDays(clock));
                }
                entry.paused_since = Some(on);
            }
            Effect::Resume { clock, on } => {
                let entry = self.open_or_err(clock)?;
                if let Some(since) = entry.paused_since.take() {
                    // The days of the hearing, the first and the last included.
                    let paused = (on - since).whole_days().max(0) + 1;
                    entry.paused_days = entry
                        .paused_days
                        .saturating_add(u16::try_from(paused).unwrap_or(u16::MAX));
                    entry.compute(calendar);
                }
            }
            Effect::Opinion(_) | Effect::Evaluated(_) | Effect::FollowUp | Effect::MatterFinal => {}
        }
        Ok(())
    }

    /// Opens a clock: its due day counted now, from its record.
    pub fn open_entry(
        &mut self,
        clock: Clock,
        reference: String,
        start: Date,
        rule: DeadlineRule,
        calendar: &HolidayCalendar,
    ) {
        let mut entry = LedgerEntry {
            clock,
            reference,
            basis: legal_basis(clock).to_owned(),
            start_event: String::new(),
            start,
            rule,
            extended_by: 0,
            extension: None,
            paused_days: 0,
            paused_since: None,
            due: start,
            provisional: false,
            calendar_version: String::new(),
            met_on: None,
            closed_on: None,
        };
        entry.compute(calendar);
        self.entries.push(entry);
    }

    /// Applies a step's effects; the clocks it opens record `cause` as their start.
    pub fn apply_step(
        &mut self,
        effects: &[Effect],
        cause: &str,
        calendar: &HolidayCalendar,
    ) -> Result<(), LedgerError> {
        let before = self.entries.len();
        for effect in effects {
            self.apply(effect, calendar)?;
        }
        for entry in &mut self.entries[before..] {
            entry.start_event = cause.to_owned();
        }
        Ok(())
    }

    /// The open entry of a clock with this reference (a higher bureau's deadline, a letter's
    /// reply).
    pub fn open_with_reference(
        &mut self,
        clock: Clock,
        reference: &str,
    ) -> Option<&mut LedgerEntry> {
        self.entries.iter_mut().find(|entry| {
            entry.clock == clock
                && entry.reference == reference
                && entry.met_on.is_none()
                && entry.closed_on.is_none()
        })
    }

    /// The latest open entry of a clock, to record who extended it.
    pub fn open_mut(&mut self, clock: Clock) -> Option<&mut LedgerEntry> {
        self.open(clock)
    }

    /// Recomputes, with a calendar that changed (a year's notice loaded or corrected), every
    /// due day still to come that was counted with another: the provisional ones, and the
    /// open ones (a correction may move them too). Met and closed clocks are history and
    /// stay as counted. Returns each due day that moved.
    pub fn recompute(&mut self, calendar: &HolidayCalendar) -> Vec<Moved> {
        let version = calendar.version();
        let mut moved = Vec::new();
        for (index, entry) in self.entries.iter_mut().enumerate() {
            if !entry.counts_with_another(&version) {
                continue;
            }
            let from = entry.due;
            entry.compute(calendar);
            if entry.due != from {
                moved.push(Moved {
                    entry: index,
                    from,
                    to: entry.due,
                });
            }
        }
        moved
    }

    /// The duties overdue on `today` (a lapsed window is nobody's fault).
    pub fn overdue(&self, today: Date) -> impl Iterator<Item = &LedgerEntry> {
        self.entries
            .iter()
            .filter(move |entry| matches!(entry.state(today), ClockState::Overdue { .. }))
    }
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
