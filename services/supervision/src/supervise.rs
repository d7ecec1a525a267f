//! Supervision's consumer: each routed case gets its timeline and first deadlines once,
//! stored with the opened event in the same transaction.

use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::{auth, wire};
use xinfang_proto::codes::DirectoryCode;
use xinfang_proto::subjects;
use xinfang_proto::v1::{
    self as proto, LegalTrack, PetitionRouted, RoutingDisposition, TimelineOpened,
};

use crate::calendar::HolidayCalendar;
use crate::store::{deadline, timeline};
use crate::timeline::{OpenDeadline, RoutedCase, first_deadlines};

pub const SERVICE: &str = "supervision";

pub struct OpenTimelines {
    pub calendar: HolidayCalendar,
}

/// A routed case, read and checked at the edge.
pub struct Routed {
    case_id: Uuid,
    case: RoutedCase,
    event: PetitionRouted,
}

impl Handler for OpenTimelines {
    type Event = Routed;

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
        let disposition = RoutingDisposition::try_from(event.disposition)
            .ok()
            .filter(|d| *d != RoutingDisposition::Unspecified)
            .ok_or_else(|| format!("disposition {} is not known", event.disposition))?;
        let case = RoutedCase {
            received_at: wire::from_timestamp(event.received_at.as_ref())
                .map_err(|why| format!("received_at {why}"))?,
            routed_at: wire::from_timestamp(event.routed_at.as_ref())
                .map_err(|why| format!("routed_at {why}"))?,
            disposition,
            track: LegalTrack::try_from(event.track).unwrap_or_default(),
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

    async fn apply(
        &self,
        transaction: &DatabaseTransaction,
        _envelope: &Envelope,
        routed: Routed,
    ) -> Result<Vec<OutgoingEvent>, Failure> {
        if timeline::Entity::find_by_id(routed.case_id)
            .one(transaction)
            .await?
            .is_some()
        {
            return Ok(Vec::new());
        }
        let opened_at = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
        let deadlines = first_deadlines(&routed.case, &self.calendar);
        let event = &routed.event;
        timeline::Entity::insert(timeline::ActiveModel {
            case_id: Set(routed.case_id),
            case_number: Set(event.case_number.clone()),
            unit_code: Set(event.unit_code.clone()),
            unit_path: Set(auth::stored_unit_path(&event.unit_path)),
            disposition: Set(routed.case.disposition.as_str_name().to_owned()),
            track: Set(routed.case.track.as_str_name().to_owned()),
            anonymous: Set(routed.case.anonymous),
            received_at: Set(routed.case.received_at),
            routed_at: Set(routed.case.routed_at),
            opened_at: Set(opened_at),
        })
        .exec_without_returning(transaction)
        .await?;
        deadline::Entity::insert_many(deadlines.iter().map(|d| deadline::ActiveModel {
            case_id: Set(routed.case_id),
            kind: Set(d.kind.as_str_name().to_owned()),
            start_day: Set(d.start),
            due_day: Set(d.due),
            provisional: Set(d.provisional),
        }))
        .exec_without_returning(transaction)
        .await?;
        tracing::info!(case = %event.case_number, unit = %event.unit_code, deadlines = deadlines.len(), "timeline opened");
        let opened = TimelineOpened {
            case_id: event.case_id.clone(),
            case_number: event.case_number.clone(),
            unit_code: event.unit_code.clone(),
            deadlines: deadlines.iter().map(deadline_view).collect(),
            opened_at: Some(wire::timestamp(opened_at)),
            unit_path: event.unit_path.clone(),
        };
        Ok(vec![OutgoingEvent::new(
            subjects::timeline_opened(&event.unit_code),
            SERVICE,
            routed.case_id,
            opened_at,
            &opened,
        )])
    }
}

pub fn deadline_view(deadline: &OpenDeadline) -> proto::Deadline {
    proto::Deadline {
        kind: deadline.kind.into(),
        start: Some(wire::calendar_date(deadline.start)),
        due: Some(wire::calendar_date(deadline.due)),
        provisional: deadline.provisional,
    }
}
