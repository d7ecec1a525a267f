//! Supervision follows intake: a registered case opens its forward clock at the bureau's
//! receipt, before routing acts on it (a case routing never acts on still has its clock).

use std::sync::Arc;

use sea_orm::DatabaseTransaction;
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::intake::v1::PetitionRegistered;

use crate::calendar::HolidayCalendar;
use crate::calendars::Calendars;
use crate::case_record::CaseRecord;
use crate::lifecycle::Stage;
use crate::timeline::{self, Registration};
use crate::upstreams::{self, UpstreamSource};

pub struct FollowRegistration {
    pub calendars: Arc<Calendars>,
}

#[derive(Debug, Clone)]
pub struct Registered {
    case_id: Uuid,
    registration: Registration,
    /// The higher bureau that sent it down, if one did: the case answers to it.
    upstream: Option<UpstreamSource>,
}

impl Handler for FollowRegistration {
    type Event = Registered;
    type Change = RecordRegistration;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Registered, String> {
        let event: PetitionRegistered = decode_event(envelope, payload)?;
        let case_id = event_case_id(&event.case_id, envelope)?;
        if event.case_number.is_empty() {
            return Err("case_number is required".to_owned());
        }
        let received_at = wire::from_timestamp(event.received_at.as_ref())
            .map_err(|why| format!("received_at {why}"))?;
        let upstream = match event.source.as_ref() {
            Some(source) => source
                .upstream_deadline
                .as_ref()
                .map(wire::from_calendar_date)
                .transpose()
                .map_err(|why| format!("source.upstream_deadline {why}"))?
                .map(|due| (source.upstream_reference.clone(), due)),
            None => None,
        };
        let source = UpstreamSource::of(event.source.as_ref())?;
        Ok(Registered {
            case_id,
            upstream: source,
            registration: Registration {
                case_number: event.case_number,
                received_at,
                anonymous: event.anonymous,
                address_unknown: event.address_unknown,
                upstream,
                repeats_final_case: Some(event.repeats_final_case).filter(|case| !case.is_empty()),
            },
        })
    }

    fn change(&self, _envelope: &Envelope, registered: &Registered) -> RecordRegistration {
        RecordRegistration {
            calendar: self.calendars.current(),
            registered: registered.clone(),
        }
    }
}

pub struct RecordRegistration {
    calendar: Arc<HolidayCalendar>,
    registered: Registered,
}

impl Change for RecordRegistration {
    type State = Option<CaseRecord>;
    type Outcome = CaseRecord;
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Option<CaseRecord>, Failure> {
        Ok(CaseRecord::load_for_update(transaction, self.registered.case_id).await?)
    }

    fn decide(
        &self,
        found: Option<CaseRecord>,
        now: OffsetDateTime,
    ) -> Result<Decided<CaseRecord>, Failure> {
        let registration = &self.registered.registration;
        let mut case = found.unwrap_or_else(|| {
            timeline::new_case(
                self.registered.case_id,
                &registration.case_number,
                registration.received_at,
                registration.anonymous,
                now,
                &self.calendar,
            )
        });
        timeline::register(&mut case, registration, &self.calendar);
        case.row.updated_at = now;
        Ok(Decided::quietly(case))
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        case: &CaseRecord,
    ) -> Result<(), Failure> {
        case.save(transaction).await?;
        // A petition linked into another case answers to its bureau through that case.
        if let Some(source) = &self.registered.upstream
            && case.stage != Stage::Linked
        {
            upstreams::record(
                transaction,
                case.row.case_id,
                source,
                (case.row.case_id, &case.row.case_number),
                case.row.received_at,
            )
            .await?;
        }
        Ok(())
    }
}
