//! Art 36: once a re-review opinion is served, the same facts and reasons are not accepted
//! again. Supervision announces it (`MatterFinal`); intake keeps who petitioned, about what
//! and where. A new petition of the same matter by the same petitioner is still registered
//! (every petition is, Art 19, and it counts as a repeat), with a notice to the clerk, and
//! its event names the final case, so that routing sends it to no unit and supervision
//! records it as not accepted.
//! "The same facts and reasons" is approximated by the same ID number, matter category and
//! place: a registrar who sees a genuinely new matter refused files it under its own
//! category.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter,
};
use std::sync::Arc;

use time::{Date, OffsetDateTime};
use uuid::Uuid;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::sealing::KeyRing;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::supervision::v1::MatterFinal;

use crate::petition::NewPetition;
use crate::sealed_identity::{self, ID_CARD};
use crate::store::{final_matter, petition, petitioner};

/// The final case a stored petition repeats (itself excluded), if any.
pub async fn repeated_final_case<C: ConnectionTrait>(
    db: &C,
    keys: &KeyRing,
    stored: &petition::Model,
) -> Result<Option<String>, DbErr> {
    let Some(lookup) = petitioner::Entity::find_by_id(stored.case_id)
        .one(db)
        .await?
        .and_then(|p| sealed_identity::id_card_lookup(keys, &p))
    else {
        return Ok(None);
    };
    Ok(final_matter::Entity::find()
        .filter(final_matter::Column::IdCardHash.eq(lookup))
        .filter(final_matter::Column::MatterCategory.eq(stored.matter_category.as_str()))
        .filter(final_matter::Column::TerritoryCode.eq(stored.territory_code.as_str()))
        .filter(final_matter::Column::CaseId.ne(stored.case_id))
        .one(db)
        .await?
        .map(|found| found.case_number))
}

/// The final case the petition repeats, if any.
pub async fn repeated_final_matter<C: ConnectionTrait>(
    db: &C,
    keys: &KeyRing,
    petition: &NewPetition,
) -> Result<Option<String>, DbErr> {
    let Some(id_card) = petition
        .petitioner
        .as_ref()
        .and_then(|p| p.id_card.as_ref())
    else {
        return Ok(None);
    };
    Ok(final_matter::Entity::find()
        .filter(final_matter::Column::IdCardHash.eq(keys.lookup(ID_CARD, id_card.as_str())))
        .filter(final_matter::Column::MatterCategory.eq(petition.matter_category.as_str()))
        .filter(final_matter::Column::TerritoryCode.eq(petition.territory.as_str()))
        .one(db)
        .await?
        .map(|found| found.case_number))
}

pub struct RecordFinality {
    pub keys: Arc<KeyRing>,
}

#[derive(Debug, Clone)]
pub struct Final {
    case_id: Uuid,
    served_on: Date,
}

impl Handler for RecordFinality {
    type Event = Final;
    type Change = RecordFinal;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Final, String> {
        let event: MatterFinal = decode_event(envelope, payload)?;
        let case_id = event_case_id(&event.case_id, envelope)?;
        let served_on = event
            .served_on
            .as_ref()
            .ok_or("served_on is required")
            .and_then(wire::from_calendar_date)
            .map_err(|why| format!("served_on {why}"))?;
        Ok(Final { case_id, served_on })
    }

    fn change(&self, _envelope: &Envelope, event: &Final) -> RecordFinal {
        RecordFinal(event.clone(), self.keys.clone())
    }
}

pub struct RecordFinal(Final, Arc<KeyRing>);

impl Change for RecordFinal {
    type State = Option<(petition::Model, Option<petitioner::Model>, bool)>;
    type Outcome = Option<final_matter::Model>;
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, Failure> {
        let Some(found) = petition::Entity::find_by_id(self.0.case_id)
            .one(transaction)
            .await?
        else {
            return Ok(None);
        };
        let who = petitioner::Entity::find_by_id(self.0.case_id)
            .one(transaction)
            .await?;
        let recorded = final_matter::Entity::find_by_id(self.0.case_id)
            .one(transaction)
            .await?
            .is_some();
        Ok(Some((found, who, recorded)))
    }

    fn decide(
        &self,
        state: Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, Failure> {
        let Some((found, who, recorded)) = state else {
            // Not a petition intake registered: nothing of it to refuse.
            tracing::warn!(case = %self.0.case_id, "final matter of a case intake does not know");
            return Ok(Decided::quietly(None));
        };
        if recorded {
            return Ok(Decided::quietly(None));
        }
        Ok(Decided::quietly(Some(final_matter::Model {
            case_id: found.case_id,
            case_number: found.case_number,
            id_card_hash: who.and_then(|p| sealed_identity::id_card_lookup(&self.1, &p)),
            matter_category: found.matter_category,
            territory_code: found.territory_code,
            served_on: self.0.served_on,
            recorded_at: now,
            hash_keyed: true,
        })))
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        outcome: &Self::Outcome,
    ) -> Result<(), Failure> {
        if let Some(row) = outcome {
            final_matter::Entity::insert(final_matter::ActiveModel {
                case_id: Set(row.case_id),
                case_number: Set(row.case_number.clone()),
                id_card_hash: Set(row.id_card_hash.clone()),
                matter_category: Set(row.matter_category.clone()),
                territory_code: Set(row.territory_code.clone()),
                served_on: Set(row.served_on),
                recorded_at: Set(row.recorded_at),
                hash_keyed: Set(true),
            })
            .exec_without_returning(transaction)
            .await?;
            tracing::info!(case = %row.case_number, "matter final: not accepted again");
        }
        Ok(())
    }
}
