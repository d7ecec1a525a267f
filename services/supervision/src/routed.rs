//! Supervision follows routing: where each case went. The forward clock is met when the
//! case is forwarded, assigned or diverted; the case then awaits its unit's sign-for. Stored
//! with the `TimelineOpened` event in one transaction.

use std::sync::Arc;

use sea_orm::{DatabaseTransaction, EntityTrait};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::write::{Change, Decided};
use xinfang_platform::{auth, wire};
use xinfang_proto::codes::DirectoryCode;
use xinfang_proto::routing::v1::PetitionRouted;
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::TimelineOpened;

use crate::calendar::HolidayCalendar;
use crate::calendars::Calendars;
use crate::case_record::CaseRecord;
use crate::deadlines::DeadlineRule;
use crate::letters::{self, LetterKind, LetterSettings};
use crate::store::letter;
use crate::timeline::{self, Disposition, LegalTrack, Routing, UnitKind};
use crate::view;

pub const SERVICE: &str = "supervision";

pub struct FollowRouting {
    pub calendars: Arc<Calendars>,
    pub letters: LetterSettings,
}

/// A routing decision, read and checked at the edge.
#[derive(Debug, Clone)]
pub struct Routed {
    case_id: Uuid,
    routing: Routing,
}

impl Handler for FollowRouting {
    type Event = Routed;
    type Change = RecordRouting;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Routed, String> {
        let event: PetitionRouted = decode_event(envelope, payload)?;
        let case_id = event_case_id(&event.case_id, envelope)?;
        if event.case_number.is_empty() {
            return Err("case_number is required".to_owned());
        }
        // The unit's code becomes a subject token of the events this causes.
        DirectoryCode::parse(&event.unit_code)
            .map_err(|why| format!("unit_code {:?} {why}", event.unit_code))?;
        for unit in &event.unit_path {
            DirectoryCode::parse(unit).map_err(|why| format!("unit_path {unit:?} {why}"))?;
        }
        let disposition = Disposition::from_proto(event.disposition)
            .map_err(|why| format!("disposition {} {why}", event.disposition))?;
        // Unset is a case no category classified yet; an unknown value is a mistake.
        let track = match LegalTrack::from_proto(event.track) {
            Ok(track) => Some(track),
            Err(_) if event.track == 0 => None,
            Err(why) => return Err(format!("track {} {why}", event.track)),
        };
        // Unset in events from before routing named the unit's kind.
        let unit_kind = match UnitKind::from_proto(event.unit_kind) {
            Ok(kind) => Some(kind),
            Err(_) if event.unit_kind == 0 => None,
            Err(why) => return Err(format!("unit_kind {} {why}", event.unit_kind)),
        };
        let routing = Routing {
            case_number: event.case_number.clone(),
            received_at: wire::from_timestamp(event.received_at.as_ref())
                .map_err(|why| format!("received_at {why}"))?,
            anonymous: event.anonymous,
            unit_code: event.unit_code.clone(),
            unit_path: auth::stored_unit_path(&event.unit_path),
            unit_kind,
            disposition,
            track,
            routed_at: wire::from_timestamp(event.routed_at.as_ref())
                .map_err(|why| format!("routed_at {why}"))?,
            upstream_deadline: event
                .upstream_deadline
                .as_ref()
                .map(wire::from_calendar_date)
                .transpose()
                .map_err(|why| format!("upstream_deadline {why}"))?,
            diverted: disposition == Disposition::Divert
                || (event.revision == 0 && track == Some(LegalTrack::StatutoryChannel)),
            // Events from before decisions had revisions are the first.
            revision: i32::try_from(std::cmp::max(event.revision, 1))
                .map_err(|_| format!("revision {} is out of range", event.revision))?,
            assignment_deadline: event
                .assignment_deadline
                .as_ref()
                .map(wire::from_calendar_date)
                .transpose()
                .map_err(|why| format!("assignment_deadline {why}"))?,
        };
        Ok(Routed { case_id, routing })
    }

    fn change(&self, _envelope: &Envelope, routed: &Routed) -> RecordRouting {
        RecordRouting {
            calendar: self.calendars.current(),
            letters: self.letters.clone(),
            routed: routed.clone(),
        }
    }
}

/// Recording one routing decision on its case.
pub struct RecordRouting {
    calendar: Arc<HolidayCalendar>,
    letters: LetterSettings,
    routed: Routed,
}

impl RecordRouting {
    /// The year the assignment letter is numbered in: the day routing decided.
    fn letter_year(&self) -> i32 {
        letters::letter_year(self.routed.routing.routed_at)
    }
}

impl Change for RecordRouting {
    /// The case, and the assignment letter's number when routing assigns it.
    type State = (Option<CaseRecord>, Option<i32>);
    /// The case when the decision changed it, and the assignment letter.
    type Outcome = Option<(CaseRecord, Option<letter::Model>)>;
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, Failure> {
        let case = CaseRecord::load_for_update(transaction, self.routed.case_id).await?;
        let routing = &self.routed.routing;
        let moves = case
            .as_ref()
            .is_none_or(|case| timeline::moves(case, routing));
        let serial = if moves && routing.disposition == Disposition::Assign {
            Some(
                letters::next_serial(transaction, LetterKind::Assignment, self.letter_year())
                    .await?,
            )
        } else {
            None
        };
        Ok((case, serial))
    }

    fn decide(
        &self,
        (found, serial): Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, Failure> {
        let routing = &self.routed.routing;
        // Routing's decision may come before intake's registration: the case opens here.
        let mut case = found.unwrap_or_else(|| {
            timeline::new_case(
                self.routed.case_id,
                &routing.case_number,
                routing.received_at,
                routing.anonymous,
                now,
                &self.calendar,
            )
        });
        if !timeline::route(&mut case, routing, &self.calendar) {
            return Ok(Decided::quietly(None));
        }
        case.row.updated_at = now;
        // 交办: the bureau's assignment letter, with the deadline for the result.
        let assignment = serial.map(|serial| {
            letters::issue(
                &mut case,
                LetterKind::Assignment,
                (self.letter_year(), serial),
                None,
                // The deadline routing set (the bureau's period, or a higher bureau's sooner
                // one); the configured period for events from before routing set one.
                // Routing counts plain days; a last day on a rest day moves to the next
                // working day, as for every legal clock.
                self.routed.routing.assignment_deadline.map_or(
                    DeadlineRule::days(self.letters.assignment_days),
                    |day| DeadlineRule {
                        roll_forward_from_rest_day: true,
                        ..DeadlineRule::set_day(day)
                    },
                ),
                "routing",
                &self.letters,
                &self.calendar,
                now,
                None,
            )
        });
        let today = crate::deadlines::start_day(now);
        let opened = TimelineOpened {
            case_id: self.routed.case_id.to_string(),
            case_number: case.row.case_number.clone(),
            unit_code: case.row.unit_code.clone(),
            deadlines: view::deadlines(&case.ledger, today),
            opened_at: Some(wire::timestamp(now)),
            unit_path: case.unit_path(),
        };
        let event = OutgoingEvent::new(
            subjects::timeline_opened(&case.row.unit_code),
            SERVICE,
            self.routed.case_id,
            now,
            &opened,
        );
        let mut events = vec![event];
        let letter = assignment.map(|issued| {
            events.push(issued.event);
            issued.letter
        });
        Ok(Decided {
            outcome: Some((case, letter)),
            events,
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        outcome: &Self::Outcome,
    ) -> Result<(), Failure> {
        if let Some((case, letter)) = outcome {
            case.save(transaction).await?;
            if let Some(letter) = letter {
                letter::Entity::insert(letter::ActiveModel::from(letter.clone()))
                    .exec_without_returning(transaction)
                    .await?;
            }
            tracing::info!(case = %case.row.case_number, unit = %case.row.unit_code, stage = case.stage.name(), "routing recorded");
        }
        Ok(())
    }
}
