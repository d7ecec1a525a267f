//! Intake's consumer of routing's decisions: it records which unit each petition went to,
//! so that a unit handler reads its own units' petitions and no others.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::auth::stored_unit_path;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::codes::DirectoryCode;
use xinfang_proto::routing::v1::PetitionRouted;
use xinfang_proto::v1::RoutingDisposition;

use crate::store::{petition, petition_scope};

pub struct RecordScope;

#[derive(Debug, Clone)]
pub struct Routed {
    case_id: Uuid,
    unit_code: String,
    unit_path: Vec<String>,
    /// 1 in events from before decisions had revisions.
    revision: i32,
    /// Held at the bureau for a clerk, not sent to a unit.
    held: bool,
}

impl Handler for RecordScope {
    type Event = Routed;
    type Change = RecordUnit;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Routed, String> {
        let event: PetitionRouted = decode_event(envelope, payload)?;
        let case_id = event_case_id(&event.case_id, envelope)?;
        for unit in event.unit_path.iter().chain([&event.unit_code]) {
            DirectoryCode::parse(unit).map_err(|why| format!("unit {unit:?} {why}"))?;
        }
        Ok(Routed {
            case_id,
            unit_code: event.unit_code,
            unit_path: event.unit_path,
            held: event.disposition == RoutingDisposition::Triage as i32,
            revision: i32::try_from(std::cmp::max(event.revision, 1))
                .map_err(|_| format!("revision {} is out of range", event.revision))?,
        })
    }

    fn change(&self, _envelope: &Envelope, routed: &Routed) -> RecordUnit {
        RecordUnit(routed.clone())
    }
}

/// Recording where one case went.
pub struct RecordUnit(Routed);

impl Change for RecordUnit {
    /// Whether intake registered the case.
    type State = bool;
    type Outcome = ();
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<bool, Failure> {
        Ok(petition::Entity::find_by_id(self.0.case_id)
            .one(transaction)
            .await?
            .is_some())
    }

    fn decide(&self, registered: bool, _now: OffsetDateTime) -> Result<Decided<()>, Failure> {
        // Routing decides on intake's own events, so the petition is here; if it is not,
        // the event is about a case nobody registered.
        if registered {
            Ok(Decided::quietly(()))
        } else {
            Err(Failure::UnknownCase)
        }
    }

    async fn save(&self, transaction: &DatabaseTransaction, (): &()) -> Result<(), Failure> {
        let routed = &self.0;
        petition_scope::Entity::insert(petition_scope::ActiveModel {
            case_id: Set(routed.case_id),
            unit_code: Set(routed.unit_code.clone()),
            unit_path: Set(stored_unit_path(&routed.unit_path)),
            revision: Set(routed.revision),
            held: Set(routed.held),
        })
        // The newest revision wins, whatever order the events come in: the old unit loses
        // the case, the new one gains it.
        .on_conflict(
            OnConflict::column(petition_scope::Column::CaseId)
                .update_columns([
                    petition_scope::Column::UnitCode,
                    petition_scope::Column::UnitPath,
                    petition_scope::Column::Revision,
                    petition_scope::Column::Held,
                ])
                .action_and_where(
                    Expr::col((petition_scope::Entity, petition_scope::Column::Revision))
                        .lt(routed.revision),
                )
                .to_owned(),
        )
        .exec_without_returning(transaction)
        .await?;
        Ok(())
    }
}
