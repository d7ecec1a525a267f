//! Statistics' consumers: every event is kept as a fact, and the records of the cases it
//! is about are folded again from all their facts. One handler serves every stream; each
//! binding has its own durable consumer.

use sea_orm::DatabaseTransaction;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait};
use time::OffsetDateTime;
use xinfang_platform::consumer::{Failure, Handler};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::write::{Change, Decided};

use crate::facts::{self, Fact};
use crate::project;
use crate::store::event_fact;

pub const SERVICE: &str = "statistics";

pub struct KeepFacts;

/// A fact checked against its envelope, with the cases it concerns.
pub struct Checked {
    pub fact: Fact,
    pub case_id: Option<uuid::Uuid>,
    pub related_case_id: Option<uuid::Uuid>,
    /// As it came: kept, and read again by every fold.
    pub payload: Vec<u8>,
}

impl Handler for KeepFacts {
    type Event = Checked;
    type Change = KeepFact;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Checked, String> {
        let fact = facts::decode(&envelope.event_type, payload)?;
        let case_id = fact.case_id()?;
        // A case's event names its case in the envelope too; the bureau's own work (a
        // reception, the watch list) is filed under the nil id.
        let expected = case_id.unwrap_or_else(uuid::Uuid::nil);
        if envelope.case_id != expected {
            return Err(format!(
                "case {expected} differs from ce-subject {}",
                envelope.case_id
            ));
        }
        Ok(Checked {
            related_case_id: fact.related_case_id()?,
            case_id,
            fact,
            payload: payload.to_vec(),
        })
    }

    fn change(&self, envelope: &Envelope, event: &Checked) -> KeepFact {
        KeepFact {
            row: event_fact::Model {
                event_id: envelope.event_id,
                event_type: envelope.event_type.clone(),
                case_id: event.case_id,
                related_case_id: event.related_case_id,
                // One offset and precision, so SQLite compares the instants it stores as text.
                occurred_at: xinfang_platform::wire::stored(envelope.occurred_at),
                payload: event.payload.clone(),
            },
        }
    }
}

/// Keeps one fact (again changes nothing) and folds the cases it concerns.
pub struct KeepFact {
    row: event_fact::Model,
}

impl Change for KeepFact {
    type State = ();
    type Outcome = ();
    type Error = Failure;

    async fn load(&self, _transaction: &DatabaseTransaction) -> Result<(), Failure> {
        Ok(())
    }

    fn decide(&self, (): (), _now: OffsetDateTime) -> Result<Decided<()>, Failure> {
        Ok(Decided::quietly(()))
    }

    async fn save(&self, transaction: &DatabaseTransaction, (): &()) -> Result<(), Failure> {
        // Before the fact is written: a transaction waits for its turn holding nothing.
        project::take_turn(transaction).await?;
        let row = &self.row;
        event_fact::Entity::insert(event_fact::ActiveModel {
            event_id: Set(row.event_id),
            event_type: Set(row.event_type.clone()),
            case_id: Set(row.case_id),
            related_case_id: Set(row.related_case_id),
            occurred_at: Set(row.occurred_at),
            payload: Set(row.payload.clone()),
        })
        .on_conflict(
            OnConflict::column(event_fact::Column::EventId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(transaction)
        .await?;
        for case_id in [row.case_id, row.related_case_id].into_iter().flatten() {
            project::refold(transaction, case_id).await?;
        }
        Ok(())
    }
}
