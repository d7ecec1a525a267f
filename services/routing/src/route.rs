//! Routing's consumer: each registered petition is routed once, the decision stored and the
//! routed event staged in the same transaction.

use std::sync::Arc;

use sea_orm::{DatabaseTransaction, EntityTrait};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::write::{Change, Decided};
use xinfang_platform::{auth, wire};
use xinfang_proto::intake::v1::PetitionRegistered;
use xinfang_proto::routing::v1::PetitionRouted;
use xinfang_proto::subjects;
use xinfang_proto::v1::UpstreamDisposition;

use crate::directory::Directory;
use crate::directory::LegalTrack;
use crate::rules::{CaseToRoute, UNCLASSIFIED, route};
use crate::store::decision;

pub const SERVICE: &str = "routing";

/// Routes registered petitions by the directory loaded at start.
pub struct RouteRegistered {
    pub directory: Arc<Directory>,
}

/// A registered petition, read and checked at the edge.
#[derive(Debug, Clone)]
pub struct Registered {
    case_id: Uuid,
    received_at: OffsetDateTime,
    event: PetitionRegistered,
}

impl Handler for RouteRegistered {
    type Event = Registered;
    type Change = RouteCase;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Registered, String> {
        let event: PetitionRegistered = decode_event(envelope, payload)?;
        let case_id = event_case_id(&event.case_id, envelope)?;
        let received_at = wire::from_timestamp(event.received_at.as_ref())
            .map_err(|why| format!("received_at {why}"))?;
        if event.case_number.is_empty() {
            return Err("case_number is required".to_owned());
        }
        Ok(Registered {
            case_id,
            received_at,
            event,
        })
    }

    fn change(&self, _envelope: &Envelope, registered: &Registered) -> RouteCase {
        RouteCase {
            directory: self.directory.clone(),
            registered: registered.clone(),
        }
    }
}

/// Routing one registered case: once, even if its registration arrives again under
/// another id.
pub struct RouteCase {
    directory: Arc<Directory>,
    registered: Registered,
}

impl Change for RouteCase {
    /// Whether the case was routed before.
    type State = bool;
    type Outcome = Option<decision::Model>;
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<bool, Failure> {
        Ok(decision::Entity::find_by_id(self.registered.case_id)
            .one(transaction)
            .await?
            .is_some())
    }

    fn decide(
        &self,
        routed_before: bool,
        now: OffsetDateTime,
    ) -> Result<Decided<Option<decision::Model>>, Failure> {
        if routed_before {
            return Ok(Decided::quietly(None));
        }
        let registered = &self.registered;
        let event = &registered.event;
        let source = event.source.clone().unwrap_or_default();
        let case = CaseToRoute {
            territory: &event.territory_code,
            matter_category: &event.matter_category,
            accused_unit: Some(event.accused_unit_code.as_str()).filter(|code| !code.is_empty()),
            upstream: UpstreamDisposition::try_from(source.disposition).ok(),
            repeats_final_case: Some(event.repeats_final_case.as_str())
                .filter(|case| !case.is_empty()),
        };
        let decided = route(&case, &self.directory);
        let unit_path = self.directory.path(&decided.unit_code);
        let stored = decision::Model {
            case_id: registered.case_id,
            case_number: event.case_number.clone(),
            unit_code: decided.unit_code.clone(),
            unit_path: auth::stored_unit_path(&unit_path),
            disposition: decided.disposition.code().to_owned(),
            track: decided
                .track
                .map_or(UNCLASSIFIED, LegalTrack::code)
                .to_owned(),
            rule: decided.rule.clone(),
            reason: decided.reason.clone(),
            directory_version: self.directory.version.clone(),
            territory_code: event.territory_code.clone(),
            matter_category: event.matter_category.clone(),
            received_at: registered.received_at,
            routed_at: now,
        };
        let routed = PetitionRouted {
            case_id: event.case_id.clone(),
            case_number: event.case_number.clone(),
            unit_code: decided.unit_code.clone(),
            disposition: decided.disposition.to_proto().into(),
            track: decided
                .track
                .map(|track| track.to_proto().into())
                .unwrap_or_default(),
            rule: decided.rule,
            directory_version: self.directory.version.clone(),
            channel: event.channel,
            source_level: source.level,
            anonymous: event.anonymous,
            received_at: event.received_at,
            routed_at: Some(wire::timestamp(now)),
            upstream_deadline: source.upstream_deadline,
            unit_path,
            unit_kind: self
                .directory
                .unit(&decided.unit_code)
                .map(|unit| unit.kind.to_proto().into())
                .unwrap_or_default(),
        };
        Ok(Decided {
            outcome: Some(stored),
            events: vec![OutgoingEvent::new(
                subjects::petition_routed(&decided.unit_code),
                SERVICE,
                registered.case_id,
                now,
                &routed,
            )],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        decision: &Option<decision::Model>,
    ) -> Result<(), Failure> {
        let Some(decision) = decision else {
            return Ok(());
        };
        decision::Entity::insert(decision::ActiveModel::from(decision.clone()))
            .exec_without_returning(transaction)
            .await?;
        tracing::info!(case = %decision.case_number, unit = %decision.unit_code, rule = %decision.rule, "petition routed");
        Ok(())
    }
}
