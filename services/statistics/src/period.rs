//! The period a figure covers, as a leader names it: a day range, a week (Monday to Sunday),
//! a month, a half-year or a year. Days are China's.

use std::fmt;

use time::{Date, Month, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub first: Date,
    pub last: Date,
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.first, self.last)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "period {0:?} is not a day range (2026-01-01..2026-06-30), a week (2026-W05), a month \
     (2026-03), a half-year (2026-H1) or a year (2026)"
)]
pub struct BadPeriod(pub String);

fn number<T: std::str::FromStr>(text: &str, digits: usize) -> Option<T> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn year(text: &str) -> Option<i32> {
    number::<i32>(text, 4).filter(|year| (1949..=9999).contains(year))
}

fn day(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let month = Month::try_from(number::<u8>(m, 2)?).ok()?;
    Date::from_calendar_date(year(y)?, month, number(d, 2)?).ok()
}

fn month(year: i32, month: Month) -> Option<Period> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let last =
        Date::from_calendar_date(year, month, time::util::days_in_month(month, year)).ok()?;
    Some(Period { first, last })
}

impl Period {
    pub fn parse(text: &str) -> Result<Self, BadPeriod> {
        let bad = || BadPeriod(text.to_owned());
        let text = text.trim();
        let period = if let Some((first, last)) = text.split_once("..") {
            let (first, last) = (day(first), day(last));
            first
                .zip(last)
                .filter(|(first, last)| first <= last)
                .map(|(first, last)| Period { first, last })
        } else if let Some((y, w)) = text.split_once("-W") {
            let week = number::<u8>(w, 2);
            year(y).zip(week).and_then(|(year, week)| {
                let first = Date::from_iso_week_date(year, week, Weekday::Monday).ok()?;
                let last = Date::from_iso_week_date(year, week, Weekday::Sunday).ok()?;
                Some(Period { first, last })
            })
        } else if let Some((y, h)) = text.split_once("-H") {
            let months = match h {
                "1" => Some((Month::January, Month::June)),
                "2" => Some((Month::July, Month::December)),
                _ => None,
            };
            year(y).zip(months).and_then(|(year, (from, to))| {
                Some(Period {
                    first: month(year, from)?.first,
                    last: month(year, to)?.last,
                })
            })
        } else if let Some((y, m)) = text.split_once('-') {
            let m = number::<u8>(m, 2).and_then(|m| Month::try_from(m).ok());
            year(y).zip(m).and_then(|(year, m)| month(year, m))
        } else {
            year(text).and_then(|year| {
                Some(Period {
                    first: month(year, Month::January)?.first,
                    last: month(year, Month::December)?.last,
                })
            })
        };
        period.ok_or_else(bad)
    }

    pub fn contains(&self, day: Date) -> bool {
        (self.first..=self.last).contains(&day)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn parsed(text: &str) -> (Date, Date) {
        let period = Period::parse(text).expect("a period");
        (period.first, period.last)
    }

    #[test]
    fn every_form_a_leader_names_is_its_days() {
        assert_eq!(
            parsed("2026-01-05..2026-01-09"),
            (date!(2026 - 01 - 05), date!(2026 - 01 - 09))
        );
        assert_eq!(
            parsed("2026-02"),
            (date!(2026 - 02 - 01), date!(2026 - 02 - 28))
        );
        assert_eq!(
            parsed("2024-02"),
            (date!(2024 - 02 - 01), date!(2024 - 02 - 29))
        );
        assert_eq!(
            parsed("2026-H1"),
            (date!(2026 - 01 - 01), date!(2026 - 06 - 30))
        );
        assert_eq!(
            parsed("2026-H2"),
            (date!(2026 - 07 - 01), date!(2026 - 12 - 31))
        );
        assert_eq!(
            parsed("2026"),
            (date!(2026 - 01 - 01), date!(2026 - 12 - 31))
        );
    }

    #[test]
    fn a_week_runs_monday_to_sunday_even_across_a_year_end() {
        assert_eq!(
            parsed("2026-W05"),
            (date!(2026 - 01 - 26), date!(2026 - 02 - 01))
        );
        // ISO week 1 of 2026 starts on Monday 2025-12-29.
        assert_eq!(
            parsed("2026-W01"),
            (date!(2025 - 12 - 29), date!(2026 - 01 - 04))
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_forms_it_takes() {
        for text in [
            "",
            "26",
            "2026-13",
            "2026-H3",
            "2026-W54",
            "2026-06-30..2026-01-01",
            "2026-02-30",
            "2026-1",
            "last month",
            "2026-W5",
        ] {
            assert_eq!(
                Period::parse(text),
                Err(BadPeriod(text.to_owned())),
                "{text}"
            );
        }
    }
}
