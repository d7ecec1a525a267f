//! Which clocks open when a case reaches its unit (DOMAIN.md, "The procedure"). Pure: the
//! routed case and the calendar in, the first deadlines out.

use time::{Date, OffsetDateTime};
pub use xinfang_proto::vocabulary::{DeadlineKind, Disposition, LegalTrack, UNCLASSIFIED};

use crate::calendar::HolidayCalendar;
use crate::deadlines::{self, FORWARD, NOTICE_OF_RECEIPT, start_day};

/// What supervision knows of a case once routing has decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedCase {
    /// The bureau's receipt: the forward clock starts here.
    pub received_at: OffsetDateTime,
    /// The unit's receipt, until units sign for cases: the notice clock starts here.
    pub routed_at: OffsetDateTime,
    pub disposition: Disposition,
    /// `None` while no category classified the case (held for triage).
    pub track: Option<LegalTrack>,
    pub anonymous: bool,
    /// A day a higher bureau set when it sent the case down.
    pub upstream_deadline: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenDeadline {
    pub kind: DeadlineKind,
    pub start: Date,
    pub due: Date,
    pub provisional: bool,
}

pub fn first_deadlines(case: &RoutedCase, calendar: &HolidayCalendar) -> Vec<OpenDeadline> {
    let clock = |kind, start, rule| {
        let deadline = deadlines::deadline(start, rule, calendar);
        OpenDeadline {
            kind,
            start,
            due: deadline.due,
            provisional: deadline.provisional,
        }
    };
    let received = start_day(case.received_at);
    let mut opened = vec![clock(DeadlineKind::Forward, received, FORWARD)];
    if notice_is_owed(case) {
        opened.push(clock(
            DeadlineKind::NoticeOfReceipt,
            start_day(case.routed_at),
            NOTICE_OF_RECEIPT,
        ));
    }
    if let Some(due) = case.upstream_deadline {
        opened.push(OpenDeadline {
            kind: DeadlineKind::Upstream,
            start: received,
            due,
            provisional: false,
        });
    }
    opened
}

/// Art 23: the unit that received the case tells the petitioner — not when the petitioner
/// is unknown (anonymous), not for accusations (discipline inspection's own rules) nor
/// matters diverted to statutory channels (they get the diversion notice instead), and not
/// before a unit has received it (held at the bureau for triage).
fn notice_is_owed(case: &RoutedCase) -> bool {
    let received_by_a_unit = matches!(case.disposition, Disposition::Forward | Disposition::Assign);
    let own_rules = matches!(
        case.track,
        Some(LegalTrack::Accusation | LegalTrack::StatutoryChannel)
    );
    received_by_a_unit && !own_rules && !case.anonymous
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn calendar() -> HolidayCalendar {
        HolidayCalendar::official().expect("official calendar")
    }

    fn forwarded() -> RoutedCase {
        RoutedCase {
            // 2025-09-26 (a Friday) in China: DOMAIN.md's worked example.
            received_at: datetime!(2025-09-26 10:00 +8),
            routed_at: datetime!(2025-09-29 09:00 +8),
            disposition: Disposition::Forward,
            track: Some(LegalTrack::Appeal),
            anonymous: false,
            upstream_deadline: None,
        }
    }

    #[test]
    fn a_forwarded_case_opens_the_forward_and_notice_clocks() {
        let opened = first_deadlines(&forwarded(), &calendar());
        assert_eq!(
            opened,
            vec![
                OpenDeadline {
                    kind: DeadlineKind::Forward,
                    start: date!(2025 - 09 - 26),
                    // 15 days end on 10-11, a make-up working day after the National Day break.
                    due: date!(2025 - 10 - 11),
                    provisional: false,
                },
                OpenDeadline {
                    kind: DeadlineKind::NoticeOfReceipt,
                    start: date!(2025 - 09 - 29),
                    due: date!(2025 - 10 - 14),
                    provisional: false,
                },
            ]
        );
    }

    #[test]
    fn the_clock_starts_on_the_day_in_china_not_in_utc() {
        let mut late = forwarded();
        // 23:30 UTC on the 25th is already the 26th in China.
        late.received_at = datetime!(2025-09-25 23:30 UTC);
        assert_eq!(
            first_deadlines(&late, &calendar())[0].start,
            date!(2025 - 09 - 26)
        );
    }

    #[test]
    fn no_notice_is_owed_to_an_anonymous_petitioner() {
        let case = RoutedCase {
            anonymous: true,
            ..forwarded()
        };
        let kinds: Vec<_> = first_deadlines(&case, &calendar())
            .iter()
            .map(|d| d.kind)
            .collect();
        assert_eq!(kinds, vec![DeadlineKind::Forward]);
    }

    #[test]
    fn accusations_and_diverted_matters_follow_their_own_rules() {
        for track in [LegalTrack::Accusation, LegalTrack::StatutoryChannel] {
            let case = RoutedCase {
                track: Some(track),
                ..forwarded()
            };
            let kinds: Vec<_> = first_deadlines(&case, &calendar())
                .iter()
                .map(|d| d.kind)
                .collect();
            assert_eq!(kinds, vec![DeadlineKind::Forward], "{track:?}");
        }
    }

    #[test]
    fn a_case_held_for_triage_has_only_the_forward_clock() {
        let case = RoutedCase {
            disposition: Disposition::Triage,
            ..forwarded()
        };
        let kinds: Vec<_> = first_deadlines(&case, &calendar())
            .iter()
            .map(|d| d.kind)
            .collect();
        assert_eq!(kinds, vec![DeadlineKind::Forward]);
    }

    #[test]
    fn a_higher_bureaus_deadline_is_kept_as_set() {
        let case = RoutedCase {
            upstream_deadline: Some(date!(2025 - 10 - 05)),
            ..forwarded()
        };
        let upstream = first_deadlines(&case, &calendar())
            .into_iter()
            .find(|d| d.kind == DeadlineKind::Upstream);
        assert_eq!(
            upstream,
            Some(OpenDeadline {
                kind: DeadlineKind::Upstream,
                start: date!(2025 - 09 - 26),
                due: date!(2025 - 10 - 05),
                provisional: false,
            })
        );
    }
}
