//! Supervision's consumer: each routed case gets its timeline and first deadlines once,
//! stored with the opened event in the same transaction.

use std::sync::Arc;

use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait};
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
use xinfang_proto::v1 as proto;

use crate::calendar::HolidayCalendar;
use crate::store::{deadline, timeline};
use crate::timeline::{
    Disposition, LegalTrack, OpenDeadline, RoutedCase, UNCLASSIFIED, first_deadlines,
};

pub const SERVICE: &str = "supervision";

pub struct OpenTimelines {
    pub calendar: Arc<HolidayCalendar>,
}

/// A routed case, read and checked at the edge.
#[derive(Debug, Clone)]
pub struct Routed {
    case_id: Uuid,
    case: RoutedCase,
    event: PetitionRouted,
}

impl Handler for OpenTimelines {
    type Event = Routed;
    type Change = OpenTimeline;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Routed, String> {
        let event: PetitionRouted = decode_event(envelope, payload)?;
        let case_id = event_case_id(&event.case_id, envelope)?;
        if event.case_number.is_empty() {
            return Err("case_number is required".to_owned());
        }
        // The unit's code becomes a subject token of the event this causes.
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
        let case = RoutedCase {
            received_at: wire::from_timestamp(event.received_at.as_ref())
                .map_err(|why| format!("received_at {why}"))?,
            routed_at: wire::from_timestamp(event.routed_at.as_ref())
                .map_err(|why| format!("routed_at {why}"))?,
            disposition,
            track,
            anonymous: event.anonymous,
            upstream_deadline: event
                .upstream_deadline
                .as_ref()
                .map(wire::from_calendar_date)
                .transpose()
                .map_err(|why| format!("upstream_deadline {why}"))?,
        };
        Ok(Routed {
            case_id,
            case,
            event,
        })
    }

    fn change(&self, _envelope: &Envelope, routed: &Routed) -> OpenTimeline {
        OpenTimeline {
            calendar: self.calendar.clone(),
            routed: routed.clone(),
        }
    }
}

/// Opening one routed case's timeline: once per case.
pub struct OpenTimeline {
    calendar: Arc<HolidayCalendar>,
    routed: Routed,
}

/// A timeline and its first deadlines, as stored.
pub struct Opened {
    timeline: timeline::Model,
    deadlines: Vec<OpenDeadline>,
}

impl Change for OpenTimeline {
    /// Whether the case has a timeline already.
    type State = bool;
    type Outcome = Option<Opened>;
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<bool, Failure> {
        Ok(timeline::Entity::find_by_id(self.routed.case_id)
            .one(transaction)
            .await?
            .is_some())
    }

    fn decide(
        &self,
        opened_before: bool,
        now: OffsetDateTime,
    ) -> Result<Decided<Option<Opened>>, Failure> {
        if opened_before {
            return Ok(Decided::quietly(None));
        }
        let routed = &self.routed;
        let deadlines = first_deadlines(&routed.case, &self.calendar);
        let event = &routed.event;
        let opened = TimelineOpened {
            case_id: event.case_id.clone(),
            case_number: event.case_number.clone(),
            unit_code: event.unit_code.clone(),
            deadlines: deadlines.iter().map(deadline_view).collect(),
            opened_at: Some(wire::timestamp(now)),
            unit_path: event.unit_path.clone(),
        };
        let timeline = timeline::Model {
            case_id: routed.case_id,
            case_number: event.case_number.clone(),
            unit_code: event.unit_code.clone(),
            unit_path: auth::stored_unit_path(&event.unit_path),
            disposition: routed.case.disposition.code().to_owned(),
            track: routed
                .case
                .track
                .map_or(UNCLASSIFIED, LegalTrack::code)
                .to_owned(),
            anonymous: routed.case.anonymous,
            received_at: routed.case.received_at,
            routed_at: routed.case.routed_at,
            opened_at: now,
        };
        Ok(Decided {
            outcome: Some(Opened {
                timeline,
                deadlines,
            }),
            events: vec![OutgoingEvent::new(
                subjects::timeline_opened(&event.unit_code),
                SERVICE,
                routed.case_id,
                now,
                &opened,
            )],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        opened: &Option<Opened>,
    ) -> Result<(), Failure> {
        let Some(Opened {
            timeline,
            deadlines,
        }) = opened
        else {
            return Ok(());
        };
        timeline::Entity::insert(timeline::ActiveModel::from(timeline.clone()))
            .exec_without_returning(transaction)
            .await?;
        deadline::Entity::insert_many(deadlines.iter().map(|d| deadline::ActiveModel {
            case_id: Set(timeline.case_id),
            kind: Set(d.kind.code().to_owned()),
            start_day: Set(d.start),
            due_day: Set(d.due),
            provisional: Set(d.provisional),
        }))
        .exec_without_returning(transaction)
        .await?;
        tracing::info!(case = %timeline.case_number, unit = %timeline.unit_code, deadlines = deadlines.len(), "timeline opened");
        Ok(())
    }
}

pub fn deadline_view(deadline: &OpenDeadline) -> proto::Deadline {
    proto::Deadline {
        kind: deadline.kind.to_proto().into(),
        start: Some(wire::calendar_date(deadline.start)),
        due: Some(wire::calendar_date(deadline.due)),
        provisional: deadline.provisional,
    }
}
