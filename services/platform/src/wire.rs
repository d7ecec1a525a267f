//! Conversions between the wire's time types (protobuf `Timestamp`, `CalendarDate`) and
//! the `time` crate's, done once so every service reads and writes times alike.

use time::{Date, Month, OffsetDateTime};
use xinfang_proto::v1::CalendarDate;

/// The same instant as every service stores it: in UTC, to the microsecond.
///
/// PostgreSQL keeps no finer than microseconds, so a value answered from memory equals the
/// one read back later. SQLite stores instants as text and compares them as text, so only
/// one offset may ever be stored, or a range query picks the wrong rows.
pub fn stored(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

/// China Standard Time, in which every legal day is counted and every case year named.
pub const CHINA_STANDARD_TIME: time::UtcOffset = time::macros::offset!(+8);

/// The day an instant falls on in China: a clock started at 23:30 UTC on the 1st starts on
/// the 2nd.
pub fn china_date(at: OffsetDateTime) -> Date {
    at.to_offset(CHINA_STANDARD_TIME).date()
}

pub fn timestamp(at: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.unix_timestamp(),
        nanos: i32::try_from(at.nanosecond()).unwrap_or_default(),
    }
}

/// Reads a required timestamp; the error says what is wrong with it.
pub fn from_timestamp(at: Option<&prost_types::Timestamp>) -> Result<OffsetDateTime, &'static str> {
    let at = at.ok_or("is required")?;
    let nanos = u32::try_from(at.nanos).map_err(|_| "has negative nanoseconds")?;
    let seconds = OffsetDateTime::from_unix_timestamp(at.seconds).map_err(|_| "is out of range")?;
    // Far enough for any petition, and far from the ends of the calendar, where moving to
    // China Standard Time or counting a deadline would overflow.
    if !(1900..3000).contains(&seconds.year()) {
        return Err("is out of range");
    }
    seconds
        .replace_nanosecond(nanos)
        .map_err(|_| "has more than a second of nanoseconds")
}

pub fn calendar_date(date: Date) -> CalendarDate {
    CalendarDate {
        year: date.year(),
        month: i32::from(u8::from(date.month())),
        day: i32::from(date.day()),
    }
}

pub fn from_calendar_date(date: &CalendarDate) -> Result<Date, &'static str> {
    let month = u8::try_from(date.month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or("has no month 1 to 12")?;
    let day = u8::try_from(date.day).map_err(|_| "is not a calendar date")?;
    if !(1900..3000).contains(&date.year) {
        return Err("is out of range");
    }
    Date::from_calendar_date(date.year, month, day).map_err(|_| "is not a calendar date")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn times_and_dates_survive_the_wire() {
        let at = datetime!(2026-11-25 09:30:00.123456 +8);
        assert_eq!(
            from_timestamp(Some(&timestamp(at))),
            Ok(at.to_offset(time::UtcOffset::UTC))
        );
        let day = date!(2026 - 02 - 28);
        assert_eq!(from_calendar_date(&calendar_date(day)), Ok(day));
    }

    #[test]
    fn instants_are_stored_in_utc_to_the_microsecond() {
        let at = datetime!(2026-11-25 09:30:00.123456789 +8);
        assert_eq!(stored(at), datetime!(2026-11-25 01:30:00.123456 UTC));
        assert_eq!(stored(at).offset(), time::UtcOffset::UTC);
    }

    #[test]
    fn impossible_times_and_dates_are_refused() {
        assert_eq!(from_timestamp(None), Err("is required"));
        let bad = prost_types::Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(from_timestamp(Some(&bad)), Err("has negative nanoseconds"));
        let bad = CalendarDate {
            year: 2026,
            month: 2,
            day: 30,
        };
        assert_eq!(from_calendar_date(&bad), Err("is not a calendar date"));
        let bad = CalendarDate {
            year: 2026,
            month: 13,
            day: 1,
        };
        assert_eq!(from_calendar_date(&bad), Err("has no month 1 to 12"));
    }
}
