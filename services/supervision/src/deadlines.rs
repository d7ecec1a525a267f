//! Deadline arithmetic (DOMAIN.md, "Counting time"): the start day is not counted; plain
//! days are calendar days; working days skip rest days and count make-up days; a deadline
//! that falls on a rest day moves to the next working day (configurable per rule). A
//! deadline that reaches into a year whose notice is not loaded is provisional.

use time::{Date, Duration, OffsetDateTime};

use crate::calendar::{DayKind, HolidayCalendar};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    CalendarDays(u16),
    WorkingDays(u16),
    /// A day someone else set (a higher bureau, a letter): kept as set.
    SetDay(Date),
}

/// One legal clock: how long, and whether a last day on a rest day moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineRule {
    pub span: Span,
    pub roll_forward_from_rest_day: bool,
}

impl DeadlineRule {
    pub const fn days(days: u16) -> Self {
        Self {
            span: Span::CalendarDays(days),
            roll_forward_from_rest_day: true,
        }
    }

    pub const fn working_days(days: u16) -> Self {
        Self {
            span: Span::WorkingDays(days),
            roll_forward_from_rest_day: true,
        }
    }

    /// A day set by someone else, kept as set.
    pub const fn set_day(day: Date) -> Self {
        Self {
            span: Span::SetDay(day),
            roll_forward_from_rest_day: false,
        }
    }

    /// How it is counted, in words, as a deadline shows it.
    pub fn describe(&self) -> String {
        let roll = if self.roll_forward_from_rest_day {
            ", a last rest day moves to the next working day"
        } else {
            ""
        };
        match self.span {
            Span::CalendarDays(days) => {
                format!("{days} calendar days from the day after the start{roll}")
            }
            Span::WorkingDays(days) => {
                format!("{days} working days from the day after the start{roll}")
            }
            Span::SetDay(day) => format!("the day set: {day}"),
        }
    }
}

/// Forward or assign within 15 days of the bureau's receipt (Art 22).
pub const FORWARD: DeadlineRule = DeadlineRule::days(15);
/// Tell the petitioner within 15 days of the unit's receipt (Art 23).
pub const NOTICE_OF_RECEIPT: DeadlineRule = DeadlineRule::days(15);
/// Object to a wrong routing within 5 working days of receipt (Art 23).
pub const OBJECTION: DeadlineRule = DeadlineRule {
    span: Span::WorkingDays(5),
    roll_forward_from_rest_day: true,
};
/// Handle within 60 days of acceptance (Art 32).
pub const HANDLING: DeadlineRule = DeadlineRule::days(60);
/// The longest extension of the handling period, approved by the unit's head (Art 32).
pub const MAX_EXTENSION_DAYS: u16 = 30;
/// Ask for review within 30 days of receiving the reply (Art 35); ask for re-review within
/// 30 days of receiving the review decision (Art 36).
pub const REVIEW_REQUEST: DeadlineRule = DeadlineRule::days(30);
/// Decide a review, or a re-review (hearing time not counted), within 30 days of the
/// request (Art 35, 36).
pub const REVIEW_DECISION: DeadlineRule = DeadlineRule::days(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// The last day on which the act is in time.
    pub due: Date,
    /// Some day counted lies in a year whose holiday notice is not loaded: recompute when
    /// it is.
    pub provisional: bool,
}

/// The day a clock starts on: the event's date in China Standard Time.
pub fn start_day(at: OffsetDateTime) -> Date {
    xinfang_platform::wire::china_date(at)
}

pub fn deadline(start: Date, rule: DeadlineRule, calendar: &HolidayCalendar) -> Deadline {
    let mut provisional = false;
    let mut is_working = |day: Date| match calendar.day_kind(day) {
        DayKind::Working => true,
        DayKind::Rest => false,
        DayKind::Unknown { presumed_working } => {
            provisional = true;
            presumed_working
        }
    };
    let mut due = match rule.span {
        Span::CalendarDays(days) => start + Duration::days(i64::from(days)),
        Span::SetDay(day) => day,
        Span::WorkingDays(days) => {
            let mut day = start;
            let mut counted = 0;
            while counted < days {
                day += Duration::days(1);
                if is_working(day) {
                    counted += 1;
                }
            }
            day
        }
    };
    if rule.roll_forward_from_rest_day {
        while !is_working(due) {
            due += Duration::days(1);
        }
    }
    Deadline { due, provisional }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn calendar() -> HolidayCalendar {
        HolidayCalendar::official().expect("embedded notices parse")
    }

    #[test]
    fn the_worked_example_of_the_domain_notes() {
        // Received Friday 2025-09-26. The objection window counts Sunday 09-28, a make-up
        // working day, as day 1 and skips the National Day holiday.
        let received = date!(2025 - 09 - 26);
        assert_eq!(
            deadline(received, OBJECTION, &calendar()),
            Deadline {
                due: date!(2025 - 10 - 10),
                provisional: false
            }
        );
        // 15 days end on Saturday 10-11, itself a make-up working day: it does not move.
        assert_eq!(
            deadline(received, NOTICE_OF_RECEIPT, &calendar()),
            Deadline {
                due: date!(2025 - 10 - 11),
                provisional: false
            }
        );
    }

    #[test]
    fn spring_festival_2026_and_its_make_up_days() {
        // Off 15–23 February; Saturday the 14th and Saturday the 28th are worked.
        // Signed for Thursday 12 February: the objection window counts Friday 13 (1),
        // Saturday 14 (2, make-up), skips the festival, then 24 (3), 25 (4), 26 (5).
        assert_eq!(
            deadline(date!(2026 - 02 - 12), OBJECTION, &calendar()).due,
            date!(2026 - 02 - 26)
        );
        // 15 days from 5 February end on the 20th, a festival day: the 24th.
        assert_eq!(
            deadline(date!(2026 - 02 - 05), NOTICE_OF_RECEIPT, &calendar()).due,
            date!(2026 - 02 - 24)
        );
    }

    #[test]
    fn a_deadline_across_the_year_boundary_counts_both_years_notices() {
        // 15 days from 20 December 2025 end on Sunday 4 January 2026, a make-up working
        // day after the New Year break (2026's notice): it does not move.
        assert_eq!(
            deadline(date!(2025 - 12 - 20), FORWARD, &calendar()),
            Deadline {
                due: date!(2026 - 01 - 04),
                provisional: false
            }
        );
        // 5 working days from Monday 29 December 2025: 30 (1), 31 (2), the break, Sunday 4
        // (3, make-up), 5 (4), 6 (5).
        assert_eq!(
            deadline(date!(2025 - 12 - 29), OBJECTION, &calendar()).due,
            date!(2026 - 01 - 06)
        );
    }

    #[test]
    fn a_deadline_ending_on_a_holiday_moves_to_the_next_working_day() {
        // 2025-09-16 + 15 days = Wednesday 10-01, National Day: the next working day is 10-09.
        assert_eq!(
            deadline(date!(2025 - 09 - 16), FORWARD, &calendar()).due,
            date!(2025 - 10 - 09)
        );
        // The same rule without rolling forward keeps the holiday.
        let fixed = DeadlineRule {
            roll_forward_from_rest_day: false,
            ..FORWARD
        };
        assert_eq!(
            deadline(date!(2025 - 09 - 16), fixed, &calendar()).due,
            date!(2025 - 10 - 01)
        );
    }

    #[test]
    fn a_deadline_ending_on_a_plain_weekend_moves_to_monday() {
        // 2026-03-06 (Friday) + 15 days = Saturday 03-21 → Monday 03-23.
        assert_eq!(
            deadline(date!(2026 - 03 - 06), FORWARD, &calendar()).due,
            date!(2026 - 03 - 23)
        );
    }

    #[test]
    fn a_deadline_reaching_into_an_unloaded_year_is_provisional() {
        let late_2026 = deadline(date!(2026 - 12 - 20), FORWARD, &calendar());
        assert_eq!(
            late_2026,
            Deadline {
                due: date!(2027 - 01 - 04),
                provisional: true
            }
        );
        // 60 days from 2026-10-01 end on Monday 11-30, well inside the loaded year.
        let within_2026 = deadline(date!(2026 - 10 - 01), HANDLING, &calendar());
        assert_eq!(
            within_2026,
            Deadline {
                due: date!(2026 - 11 - 30),
                provisional: false
            }
        );
        let into_2027 = deadline(date!(2026 - 11 - 02), HANDLING, &calendar());
        assert!(into_2027.provisional);
        assert!(deadline(date!(2026 - 12 - 28), OBJECTION, &calendar()).provisional);
    }

    #[test]
    fn a_clock_starts_on_the_china_standard_time_date() {
        assert_eq!(
            start_day(datetime!(2025-09-25 16:30 UTC)),
            date!(2025 - 09 - 26)
        );
        assert_eq!(
            start_day(datetime!(2025-09-25 15:59 UTC)),
            date!(2025 - 09 - 25)
        );
    }
}
