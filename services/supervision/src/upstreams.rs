//! One case, many upstreams (DOMAIN.md, "Channels and sources"): a case answers to every
//! higher bureau that sent its matter down — one obligation each, with the bureau's own
//! deadline when it set one. A petition a clerk linked into the case stops being a case of
//! its own: its clocks stop, and its bureau's obligation moves to the case it went into.

use std::sync::Arc;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::intake::v1::UpstreamLinked;
use xinfang_proto::v1 as proto;
use xinfang_proto::vocabulary::{SourceLevel, UpstreamDisposition};

use crate::calendar::HolidayCalendar;
use crate::calendars::Calendars;
use crate::case_record::CaseRecord;
use crate::deadlines::start_day;
use crate::lifecycle::Stage;
use crate::store::case_upstream;
use crate::timeline;

/// A higher bureau's part in a case: who, its reference, forward-or-assign, its deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSource {
    pub level: SourceLevel,
    pub reference: String,
    pub disposition: UpstreamDisposition,
    pub due: Option<Date>,
}

impl UpstreamSource {
    /// The source an event names; `None` for a petition registered here.
    pub fn of(source: Option<&proto::PetitionSource>) -> Result<Option<Self>, String> {
        let Some(source) = source else {
            return Ok(None);
        };
        let level =
            SourceLevel::from_proto(source.level).map_err(|why| format!("source.level {why}"))?;
        if level == SourceLevel::Local || source.upstream_reference.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            level,
            reference: source.upstream_reference.clone(),
            disposition: UpstreamDisposition::from_proto(source.disposition)
                .map_err(|why| format!("source.disposition {why}"))?,
            due: source
                .upstream_deadline
                .as_ref()
                .map(wire::from_calendar_date)
                .transpose()
                .map_err(|why| format!("source.upstream_deadline {why}"))?,
        }))
    }
}

/// Records that `case_id` answers to this bureau; recording it again changes nothing.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    case_id: Uuid,
    source: &UpstreamSource,
    via: (Uuid, &str),
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    case_upstream::Entity::insert(case_upstream::ActiveModel {
        case_id: Set(case_id),
        source_level: Set(source.level.code().to_owned()),
        upstream_reference: Set(source.reference.clone()),
        disposition: Set(source.disposition.code().to_owned()),
        due_day: Set(source.due),
        via_case_id: Set(via.0),
        via_case_number: Set(via.1.to_owned()),
        recorded_at: Set(now),
        reported_on: Set(None),
    })
    .on_conflict(
        OnConflict::columns([
            case_upstream::Column::CaseId,
            case_upstream::Column::SourceLevel,
            case_upstream::Column::UpstreamReference,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Links the petition's record into the carrying case's: the carrier takes on the bureau's
/// deadline; the petition's clocks stop on the day (neither met nor missed) and it is
/// linked, whatever it was waiting for.
pub fn link_into(
    carrier: &mut CaseRecord,
    linked: &mut CaseRecord,
    source: &UpstreamSource,
    (received_at, linked_at): (OffsetDateTime, OffsetDateTime),
    calendar: &HolidayCalendar,
) {
    if let Some(due) = source.due {
        timeline::answer_to_upstream(
            carrier,
            &source.reference,
            start_day(received_at),
            due,
            calendar,
        );
    }
    let on = start_day(linked_at);
    for entry in &mut linked.ledger.entries {
        if entry.met_on.is_none() && entry.closed_on.is_none() {
            entry.closed_on = Some(on);
        }
    }
    linked.stage = Stage::Linked;
    linked.row.linked_into_case_number = Some(carrier.row.case_number.clone());
}

pub struct FollowLinks {
    pub calendars: Arc<Calendars>,
}

#[derive(Debug, Clone)]
pub struct Linked {
    into_case_id: Uuid,
    linked_case_id: Uuid,
    linked_case_number: String,
    source: UpstreamSource,
    received_at: OffsetDateTime,
    linked_at: OffsetDateTime,
}

impl Handler for FollowLinks {
    type Event = Linked;
    type Change = RecordLink;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Linked, String> {
        let event: UpstreamLinked = decode_event(envelope, payload)?;
        let into_case_id = event_case_id(&event.case_id, envelope)?;
        let linked_case_id = Uuid::parse_str(&event.linked_case_id)
            .map_err(|_| format!("linked_case_id {:?} is not a UUID", event.linked_case_id))?;
        if event.linked_case_number.is_empty() || linked_case_id == into_case_id {
            return Err("a linked petition needs its own case number and id".to_owned());
        }
        let source = UpstreamSource::of(event.source.as_ref())?
            .ok_or("a linked petition comes from a higher bureau: source is required")?;
        Ok(Linked {
            into_case_id,
            linked_case_id,
            linked_case_number: event.linked_case_number,
            source,
            received_at: wire::from_timestamp(event.received_at.as_ref())
                .map_err(|why| format!("received_at {why}"))?,
            linked_at: wire::from_timestamp(event.linked_at.as_ref())
                .map_err(|why| format!("linked_at {why}"))?,
        })
    }

    fn change(&self, _envelope: &Envelope, linked: &Linked) -> RecordLink {
        RecordLink {
            calendar: self.calendars.current(),
            linked: linked.clone(),
        }
    }
}

pub struct RecordLink {
    calendar: Arc<HolidayCalendar>,
    linked: Linked,
}

impl Change for RecordLink {
    /// The carrying case, and the linked petition's record if supervision has it yet.
    type State = (CaseRecord, Option<CaseRecord>);
    /// Both, linked; `None` when the petition went to a unit meanwhile (routing keeps it
    /// there too, see routing's `links`).
    type Outcome = Option<(CaseRecord, CaseRecord)>;
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, Failure> {
        let link = &self.linked;
        // Locked in id order, so two links crossing each other cannot deadlock.
        let (carrier, linked) = if link.into_case_id < link.linked_case_id {
            let carrier = CaseRecord::load_for_update(transaction, link.into_case_id).await?;
            let linked = CaseRecord::load_for_update(transaction, link.linked_case_id).await?;
            (carrier, linked)
        } else {
            let linked = CaseRecord::load_for_update(transaction, link.linked_case_id).await?;
            let carrier = CaseRecord::load_for_update(transaction, link.into_case_id).await?;
            (carrier, linked)
        };
        // Intake links only into a case it registered: its registration is on its way.
        let carrier = carrier.ok_or_else(|| {
            Failure::Transient(format!("case {} is not known here yet", link.into_case_id))
        })?;
        Ok((carrier, linked))
    }

    fn decide(
        &self,
        (mut carrier, linked): Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, Failure> {
        let link = &self.linked;
        if let Some(at_a_unit) = linked.as_ref().filter(|record| record.stage.is_at_a_unit()) {
            tracing::warn!(case = %at_a_unit.row.case_number, into = %carrier.row.case_number, "a link of a case routed to a unit meanwhile: the unit keeps it");
            return Ok(Decided::quietly(None));
        }
        let mut linked = linked.unwrap_or_else(|| {
            timeline::new_case(
                link.linked_case_id,
                &link.linked_case_number,
                link.received_at,
                false,
                now,
                &self.calendar,
            )
        });
        link_into(
            &mut carrier,
            &mut linked,
            &link.source,
            (link.received_at, link.linked_at),
            &self.calendar,
        );
        carrier.row.updated_at = now;
        linked.row.updated_at = now;
        Ok(Decided::quietly(Some((carrier, linked))))
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        linked: &Self::Outcome,
    ) -> Result<(), Failure> {
        let Some((carrier, linked)) = linked else {
            return Ok(());
        };
        carrier.save(transaction).await?;
        linked.save(transaction).await?;
        let link = &self.linked;
        // The bureau's obligation moves to the case that carries the matter.
        case_upstream::Entity::delete_many()
            .filter(case_upstream::Column::CaseId.eq(link.linked_case_id))
            .exec(transaction)
            .await?;
        record(
            transaction,
            carrier.row.case_id,
            &link.source,
            (link.linked_case_id, &link.linked_case_number),
            link.linked_at,
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn registered(case_id: u128, number: &str) -> CaseRecord {
        timeline::new_case(
            Uuid::from_u128(case_id),
            number,
            datetime!(2026-03-02 10:00 +8),
            false,
            datetime!(2026-03-02 02:00 UTC),
            &HolidayCalendar::official().expect("official calendar"),
        )
    }

    fn national(due: Option<Date>) -> UpstreamSource {
        UpstreamSource {
            level: SourceLevel::National,
            reference: "国信交〔2026〕301号".into(),
            disposition: UpstreamDisposition::Assigned,
            due,
        }
    }

    #[test]
    fn the_case_takes_on_the_linked_bureaus_deadline_and_the_petition_stops() {
        let calendar = HolidayCalendar::official().expect("official calendar");
        let (mut carrier, mut copy) = (registered(1, "XF-1"), registered(2, "XF-2"));
        link_into(
            &mut carrier,
            &mut copy,
            &national(Some(date!(2026 - 03 - 20))),
            (
                datetime!(2026-03-03 09:00 +8),
                datetime!(2026-03-04 09:00 +8),
            ),
            &calendar,
        );
        let upstream: Vec<(&str, Date)> = carrier
            .ledger
            .entries
            .iter()
            .filter(|entry| entry.clock == crate::lifecycle::Clock::Upstream)
            .map(|entry| (entry.reference.as_str(), entry.due))
            .collect();
        assert_eq!(upstream, [("国信交〔2026〕301号", date!(2026 - 03 - 20))]);
        assert_eq!(copy.stage, Stage::Linked);
        assert_eq!(copy.row.linked_into_case_number.as_deref(), Some("XF-1"));
        // Its forward clock stops on the day, neither met nor missed.
        let forward: Vec<(Option<Date>, Option<Date>)> = copy
            .ledger
            .entries
            .iter()
            .map(|entry| (entry.met_on, entry.closed_on))
            .collect();
        assert_eq!(forward, [(None, Some(date!(2026 - 03 - 04)))]);
    }

    #[test]
    fn a_bureau_that_set_no_deadline_opens_no_clock() {
        let calendar = HolidayCalendar::official().expect("official calendar");
        let (mut carrier, mut copy) = (registered(1, "XF-1"), registered(2, "XF-2"));
        let before = carrier.ledger.entries.len();
        link_into(
            &mut carrier,
            &mut copy,
            &national(None),
            (
                datetime!(2026-03-03 09:00 +8),
                datetime!(2026-03-04 09:00 +8),
            ),
            &calendar,
        );
        assert_eq!(carrier.ledger.entries.len(), before);
    }

    #[test]
    fn a_source_registered_here_is_no_upstream() {
        let local = proto::PetitionSource {
            level: proto::SourceLevel::Local as i32,
            ..Default::default()
        };
        assert_eq!(UpstreamSource::of(Some(&local)), Ok(None));
        assert_eq!(UpstreamSource::of(None), Ok(None));
    }
}
