//! Routing's consumer: each registered petition is routed once, the decision stored and the
//! routed event staged in the same transaction.

use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::{auth, wire};
use xinfang_proto::subjects;
use xinfang_proto::v1::{PetitionRegistered, PetitionRouted, UpstreamDisposition};

use crate::directory::Directory;
use crate::rules::{CaseToRoute, route};
use crate::store::decision;

pub const SERVICE: &str = "routing";

/// Routes registered petitions by the directory loaded at start.
pub struct RouteRegistered {
    pub directory: std::sync::Arc<Directory>,
}

/// A registered petition, read and checked at the edge.
pub struct Registered {
    case_id: Uuid,
    received_at: OffsetDateTime,
    event: PetitionRegistered,
}

impl Handler for RouteRegistered {
    type Event = Registered;

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

    async fn apply(
        &self,
        transaction: &DatabaseTransaction,
        _envelope: &Envelope,
        registered: Registered,
    ) -> Result<Vec<OutgoingEvent>, Failure> {
        // A case is routed once, even if its registration arrives again under another id.
        if decision::Entity::find_by_id(registered.case_id)
            .one(transaction)
            .await?
            .is_some()
        {
            return Ok(Vec::new());
        }
        let event = &registered.event;
        let source = event.source.clone().unwrap_or_default();
        let case = CaseToRoute {
            territory: &event.territory_code,
            matter_category: &event.matter_category,
            accused_unit: Some(event.accused_unit_code.as_str()).filter(|code| !code.is_empty()),
            upstream: UpstreamDisposition::try_from(source.disposition).ok(),
        };
        let decided = route(&case, &self.directory);
        let unit_path = self.directory.path(&decided.unit_code);
        let routed_at = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
        decision::Entity::insert(decision::ActiveModel {
            case_id: Set(registered.case_id),
            case_number: Set(event.case_number.clone()),
            unit_code: Set(decided.unit_code.clone()),
            unit_path: Set(auth::stored_unit_path(&unit_path)),
            disposition: Set(decided.disposition.as_str_name().to_owned()),
            track: Set(decided.track.as_str_name().to_owned()),
            rule: Set(decided.rule.clone()),
            reason: Set(decided.reason.clone()),
            directory_version: Set(self.directory.version.clone()),
            territory_code: Set(event.territory_code.clone()),
            matter_category: Set(event.matter_category.clone()),
            received_at: Set(registered.received_at),
            routed_at: Set(routed_at),
        })
        .exec_without_returning(transaction)
        .await?;
        tracing::info!(case = %event.case_number, unit = %decided.unit_code, rule = %decided.rule, "petition routed");
        let routed = PetitionRouted {
            case_id: event.case_id.clone(),
            case_number: event.case_number.clone(),
            unit_code: decided.unit_code.clone(),
            disposition: decided.disposition.into(),
            track: decided.track.into(),
            rule: decided.rule,
            directory_version: self.directory.version.clone(),
            channel: event.channel,
            source_level: source.level,
            anonymous: event.anonymous,
            received_at: event.received_at,
            routed_at: Some(wire::timestamp(routed_at)),
            upstream_deadline: source.upstream_deadline,
            unit_path,
        };
        Ok(vec![OutgoingEvent::new(
            subjects::petition_routed(&decided.unit_code),
            SERVICE,
            registered.case_id,
            routed_at,
            &routed,
        )])
    }
}
