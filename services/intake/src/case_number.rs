//! The bureau's human-readable case number: `<region>-<year>-<sequence>`, e.g.
//! `610481-2026-000123`. The sequence restarts each year and is drawn inside the
//! registering transaction, so numbers have no gaps and are never given twice.

use std::fmt;

use time::OffsetDateTime;

use crate::codes::RegionCode;

/// China has one time zone and no daylight saving: UTC+8 all year.
pub use xinfang_platform::wire::CHINA_STANDARD_TIME;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumber {
    pub region: RegionCode,
    pub year: i32,
    pub sequence: u64,
}

impl CaseNumber {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        const SHAPE: &str = "must look like 610481-2026-000123";
        let mut parts = text.split('-');
        let (Some(region), Some(year), Some(sequence), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SHAPE);
        };
        let region = RegionCode::parse(region).map_err(|_| SHAPE)?;
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || sequence.len() < 6 || !digits(sequence) {
            return Err(SHAPE);
        }
        Ok(Self {
            region,
            year: year.parse().map_err(|_| SHAPE)?,
            sequence: sequence.parse().map_err(|_| SHAPE)?,
        })
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:04}-{:06}", self.region, self.year, self.sequence)
    }
}

/// The year a registration counts in: the bureau's calendar year, in China Standard Time.
pub fn registration_year(registered_at: OffsetDateTime) -> i32 {
    registered_at.to_offset(CHINA_STANDARD_TIME).year()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_case_number_is_region_year_and_a_six_digit_sequence() {
        let number = CaseNumber {
            region: RegionCode::parse("610481").expect("valid region"),
            year: 2026,
            sequence: 123,
        };
        assert_eq!(number.to_string(), "610481-2026-000123");
        assert_eq!(CaseNumber::parse("610481-2026-000123"), Ok(number));
    }

    #[test]
    fn malformed_case_numbers_are_refused() {
        for bad in [
            "",
            "610481-2026",
            "610481-26-000123",
            "610481-2026-123",
            "61048-2026-000123",
            "610481-2026-000123-1",
        ] {
            assert!(CaseNumber::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn new_years_eve_after_four_pm_utc_already_counts_in_the_next_year() {
        assert_eq!(registration_year(datetime!(2025-12-31 15:59:59 UTC)), 2025);
        assert_eq!(registration_year(datetime!(2025-12-31 16:00:00 UTC)), 2026);
    }
}
