//! Routing follows intake's links (one case, many upstreams): a petition a clerk linked into
//! another case of the same matter leaves the triage list and is never routed, whichever of
//! its registration and its link arrives first.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait, QuerySelect};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::intake::v1::UpstreamLinked;

use crate::rules::Disposition;
use crate::store::{decision, linked_case};

pub struct FollowLinks;

impl Handler for FollowLinks {
    type Event = linked_case::Model;
    type Change = RecordLink;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<linked_case::Model, String> {
        let event: UpstreamLinked = decode_event(envelope, payload)?;
        let into_case_id = event_case_id(&event.case_id, envelope)?;
        let case_id = Uuid::parse_str(&event.linked_case_id)
            .map_err(|_| format!("linked_case_id {:?} is not a UUID", event.linked_case_id))?;
        if event.case_number.is_empty() {
            return Err("case_number is required".to_owned());
        }
        Ok(linked_case::Model {
            case_id,
            into_case_id,
            into_case_number: event.case_number,
            linked_at: wire::from_timestamp(event.linked_at.as_ref())
                .map_err(|why| format!("linked_at {why}"))?,
        })
    }

    fn change(&self, _envelope: &Envelope, link: &linked_case::Model) -> RecordLink {
        RecordLink(link.clone())
    }
}

pub struct RecordLink(linked_case::Model);

impl Change for RecordLink {
    /// The petition's decision, if routing made one yet.
    type State = Option<decision::Model>;
    /// Whether the link is recorded.
    type Outcome = bool;
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, Failure> {
        Ok(decision::Entity::find_by_id(self.0.case_id)
            .lock_exclusive()
            .one(transaction)
            .await?)
    }

    fn decide(
        &self,
        decision: Self::State,
        _now: OffsetDateTime,
    ) -> Result<Decided<bool>, Failure> {
        // Intake links only what routing holds; a clerk's routing in the same moment wins,
        // and the unit keeps the case.
        let held = decision
            .as_ref()
            .is_none_or(|decision| decision.disposition == Disposition::Triage.code());
        if !held {
            tracing::warn!(case = %self.0.case_id, into = %self.0.into_case_number, "a link of a case routed to a unit meanwhile: the unit keeps it");
        }
        Ok(Decided::quietly(held))
    }

    async fn save(&self, transaction: &DatabaseTransaction, held: &bool) -> Result<(), Failure> {
        if !held {
            return Ok(());
        }
        let link = &self.0;
        linked_case::Entity::insert(linked_case::ActiveModel {
            case_id: Set(link.case_id),
            into_case_id: Set(link.into_case_id),
            into_case_number: Set(link.into_case_number.clone()),
            linked_at: Set(link.linked_at),
        })
        .on_conflict(
            OnConflict::column(linked_case::Column::CaseId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(transaction)
        .await?;
        tracing::info!(case = %link.case_id, into = %link.into_case_number, "petition linked: not routed on its own");
        Ok(())
    }
}
