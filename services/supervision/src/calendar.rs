//! The official working-day calendar: weekends and statutory holidays are rest days, except
//! the weekend make-up working days (调休上班) each year's State Council notice names.
//! A year whose notice is not loaded is unknown, never guessed silently.

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;
use time::{Date, Weekday};

/// The notices this build carries (see `data/holiday-cn/README.md`).
pub const OFFICIAL_NOTICES: [&str; 5] = [
    include_str!("../data/holiday-cn/2022.json"),
    include_str!("../data/holiday-cn/2023.json"),
    include_str!("../data/holiday-cn/2024.json"),
    include_str!("../data/holiday-cn/2025.json"),
    include_str!("../data/holiday-cn/2026.json"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayCalendar {
    known_years: BTreeSet<i32>,
    /// Dates the notices name: `true` a rest day, `false` a make-up working day.
    exceptions: HashMap<Date, bool>,
}

/// What a date is, as far as the loaded notices tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Working,
    Rest,
    /// The year's notice is not loaded: weekends are presumed rest days, but the answer is
    /// provisional.
    Unknown {
        presumed_working: bool,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("holiday notice is not valid JSON of the expected shape: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct Notice {
    year: i32,
    days: Vec<NoticeDay>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NoticeDay {
    #[serde(with = "iso_date")]
    date: Date,
    is_off_day: bool,
}

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

impl HolidayCalendar {
    /// The calendar of the notices this build carries (2022–2026).
    pub fn official() -> Result<Self, CalendarError> {
        Self::from_notices(OFFICIAL_NOTICES)
    }

    /// Reads notices in holiday-cn's JSON shape, one per year.
    pub fn from_notices<'a>(
        notices: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, CalendarError> {
        let mut calendar = Self {
            known_years: BTreeSet::new(),
            exceptions: HashMap::new(),
        };
        for text in notices {
            let notice: Notice = serde_json::from_str(text)
                .map_err(|error| CalendarError::Malformed(error.to_string()))?;
            // A notice may name days of the adjacent year (2023's lists 2022-12-31, the New
            // Year break spanning both); the year itself counts as known only by its own notice.
            for day in notice.days {
                calendar.exceptions.insert(day.date, day.is_off_day);
            }
            calendar.known_years.insert(notice.year);
        }
        Ok(calendar)
    }

    /// Which notices the calendar holds, as a deadline records it:
    /// `notices 2022,2023,… #1a2b3c4d`, the last part a digest of every day they name, so
    /// that loading another year's notice or correcting one changes it.
    pub fn version(&self) -> String {
        use sha2::{Digest, Sha256};
        let years: Vec<String> = self.known_years.iter().map(ToString::to_string).collect();
        let mut days: Vec<(&Date, &bool)> = self.exceptions.iter().collect();
        days.sort();
        let mut digest = Sha256::new();
        for (day, off) in days {
            digest.update(format!("{day}:{off};"));
        }
        let digest = digest.finalize();
        let short: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!("notices {} #{short}", years.join(","))
    }

    pub fn knows_year(&self, year: i32) -> bool {
        self.known_years.contains(&year)
    }

    pub fn day_kind(&self, date: Date) -> DayKind {
        let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
        if !self.knows_year(date.year()) {
            return DayKind::Unknown {
                presumed_working: !weekend,
            };
        }
        let rest = self.exceptions.get(&date).copied().unwrap_or(weekend);
        if rest {
            DayKind::Rest
        } else {
            DayKind::Working
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn the_official_calendar_covers_2022_to_2026() {
        let calendar = HolidayCalendar::official().expect("embedded notices parse");
        assert!((2022..=2026).all(|year| calendar.knows_year(year)));
        assert!(!calendar.knows_year(2027));
    }

    #[test]
    fn make_up_working_days_and_holidays_override_the_week() {
        let calendar = HolidayCalendar::official().expect("embedded notices parse");
        let cases = [
            (date!(2025 - 09 - 26), DayKind::Working), // Friday
            (date!(2025 - 09 - 27), DayKind::Rest),    // Saturday
            (date!(2025 - 09 - 28), DayKind::Working), // Sunday, make-up day
            (date!(2025 - 10 - 01), DayKind::Rest),    // National Day, Wednesday
            (date!(2025 - 10 - 08), DayKind::Rest),    // Wednesday, holiday
            (date!(2025 - 10 - 11), DayKind::Working), // Saturday, make-up day
            (
                date!(2027 - 01 - 04),
                DayKind::Unknown {
                    presumed_working: true,
                },
            ),
            (
                date!(2027 - 01 - 02),
                DayKind::Unknown {
                    presumed_working: false,
                },
            ),
            (date!(2022 - 12 - 31), DayKind::Rest), // Saturday, named by the 2023 notice
        ];
        for (day, expected) in cases {
            assert_eq!(calendar.day_kind(day), expected, "{day}");
        }
    }

    #[test]
    fn a_malformed_notice_is_refused() {
        assert!(matches!(
            HolidayCalendar::from_notices(["{}"]),
            Err(CalendarError::Malformed(_))
        ));
        let bad_date =
            r#"{"year": 2027, "days": [{"name": "元旦", "date": "2027-13-01", "isOffDay": true}]}"#;
        assert!(matches!(
            HolidayCalendar::from_notices([bad_date]),
            Err(CalendarError::Malformed(_))
        ));
    }
}
