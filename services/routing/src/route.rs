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
use xinfang_proto::vocabulary::{Channel, Disposition, SourceLevel};

use crate::directory::Directory;
use crate::directory::LegalTrack;
use crate::rules::{CaseToRoute, UNCLASSIFIED, route};
use crate::store::{decision, linked_case, pending_correction};
use crate::versions::{DirectoryVersions, VersionsError, lock_directory};

pub const SERVICE: &str = "routing";

/// Who decided a decision the rules made.
pub const RULES: &str = "rules";

/// Routes registered petitions by the directory in effect when each is routed.
pub struct RouteRegistered {
    pub versions: DirectoryVersions,
    /// Days an assignment gives the unit for the result, unless a higher bureau set less.
    pub assignment_days: u16,
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
            versions: self.versions.clone(),
            assignment_days: self.assignment_days,
            registered: registered.clone(),
        }
    }
}

/// Routing one registered case: once, even if its registration arrives again under
/// another id.
pub struct RouteCase {
    versions: DirectoryVersions,
    assignment_days: u16,
    registered: Registered,
}

impl Change for RouteCase {
    /// The directory in effect, the case the petition was linked into and a correction of
    /// its registration, if they came first; `None` when the case was routed before.
    type State = Option<(
        Arc<Directory>,
        Option<String>,
        Option<pending_correction::Model>,
    )>;
    type Outcome = Option<decision::Model>;
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, Failure> {
        if decision::Entity::find_by_id(self.registered.case_id)
            .one(transaction)
            .await?
            .is_some()
        {
            return Ok(None);
        }
        let linked_into = linked_case::Entity::find_by_id(self.registered.case_id)
            .one(transaction)
            .await?
            .map(|link| link.into_case_number);
        lock_directory(transaction, false).await?;
        // Read under the directory lock, which a correction coming before any decision
        // takes exclusively: it is either here, or finds this decision (see `corrections`).
        let corrected = pending_correction::Entity::find_by_id(self.registered.case_id)
            .one(transaction)
            .await?;
        match self.versions.in_effect(transaction).await {
            Ok(directory) => Ok(Some((directory, linked_into, corrected))),
            Err(VersionsError::Database(error)) => Err(error.into()),
            Err(damaged) => Err(Failure::Transient(damaged.to_string())),
        }
    }

    fn decide(
        &self,
        state: Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Option<decision::Model>>, Failure> {
        let Some((directory, linked_into, corrected)) = state else {
            return Ok(Decided::quietly(None));
        };
        let registered = &self.registered;
        let event = &registered.event;
        let source = event.source.clone().unwrap_or_default();
        // A correction that came first is what the registration now says.
        let territory = corrected
            .as_ref()
            .and_then(|c| c.territory_code.clone())
            .unwrap_or_else(|| event.territory_code.clone());
        let matter_category = corrected
            .as_ref()
            .and_then(|c| c.matter_category.clone())
            .unwrap_or_else(|| event.matter_category.clone());
        let case = CaseToRoute {
            territory: &territory,
            matter_category: &matter_category,
            accused_unit: Some(event.accused_unit_code.as_str()).filter(|code| !code.is_empty()),
            upstream: UpstreamDisposition::try_from(source.disposition).ok(),
            repeats_final_case: Some(event.repeats_final_case.as_str())
                .filter(|case| !case.is_empty()),
            repeat_of_case: Some(event.repeat_of_case_number.as_str())
                .filter(|case| !case.is_empty()),
            registered_at_unit: Some(event.registered_at_unit.as_str())
                .filter(|unit| !unit.is_empty()),
            proposed_link: event
                .proposed_link
                .as_ref()
                .map(|link| link.case_number.as_str())
                .filter(|case| !case.is_empty()),
            linked_into: linked_into.as_deref(),
        };
        let decided = route(&case, &directory);
        let upstream_deadline = source
            .upstream_deadline
            .as_ref()
            .and_then(|day| wire::from_calendar_date(day).ok());
        let stored = decision::Model {
            case_id: registered.case_id,
            case_number: event.case_number.clone(),
            unit_code: decided.unit_code.clone(),
            unit_path: auth::stored_unit_path(&directory.path(&decided.unit_code)),
            disposition: decided.disposition.code().to_owned(),
            track: decided
                .track
                .map_or(UNCLASSIFIED, LegalTrack::code)
                .to_owned(),
            rule: decided.rule.clone(),
            reason: decided.reason.clone(),
            directory_version: directory.version.clone(),
            territory_code: territory.clone(),
            matter_category: matter_category.clone(),
            received_at: registered.received_at,
            routed_at: now,
            revision: 1,
            decided_by: RULES.to_owned(),
            guidance_notice: decided.guidance_notice.clone(),
            assignment_deadline: (decided.disposition == Disposition::Assign)
                .then(|| assignment_deadline(now, self.assignment_days, upstream_deadline)),
            accused_unit_code: Some(event.accused_unit_code.clone()).filter(|c| !c.is_empty()),
            channel: Channel::from_proto(event.channel)
                .map(|c| c.code().to_owned())
                .unwrap_or_default(),
            source_level: SourceLevel::from_proto(source.level)
                .map(|l| l.code().to_owned())
                .unwrap_or_default(),
            anonymous: event.anonymous,
            upstream_deadline,
            previous_unit_code: None,
            after_objection: false,
            co_handling_units: String::new(),
            territory_revision: corrected.as_ref().map_or(0, |c| c.territory_revision),
            category_revision: corrected.as_ref().map_or(0, |c| c.category_revision),
            review_reason: None,
        };
        let routed = routed_event(&stored, &directory);
        Ok(Decided {
            events: vec![OutgoingEvent::new(
                subjects::petition_routed(&stored.unit_code),
                SERVICE,
                registered.case_id,
                now,
                &routed,
            )],
            outcome: Some(stored),
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
        pending_correction::Entity::delete_by_id(decision.case_id)
            .exec(transaction)
            .await?;
        tracing::info!(case = %decision.case_number, unit = %decision.unit_code, rule = %decision.rule, "petition routed");
        Ok(())
    }
}

/// The routed event of a stored decision (the rules' or a clerk's): what every other
/// service learns of it.
pub fn routed_event(row: &decision::Model, directory: &Directory) -> PetitionRouted {
    PetitionRouted {
        case_id: row.case_id.to_string(),
        case_number: row.case_number.clone(),
        unit_code: row.unit_code.clone(),
        disposition: Disposition::from_code(&row.disposition)
            .map(|d| d.to_proto().into())
            .unwrap_or_default(),
        track: LegalTrack::from_code(&row.track)
            .map(|t| t.to_proto().into())
            .unwrap_or_default(),
        rule: row.rule.clone(),
        directory_version: row.directory_version.clone(),
        channel: Channel::from_code(&row.channel)
            .map(|c| c.to_proto().into())
            .unwrap_or_default(),
        source_level: SourceLevel::from_code(&row.source_level)
            .map(|l| l.to_proto().into())
            .unwrap_or_default(),
        anonymous: row.anonymous,
        received_at: Some(wire::timestamp(row.received_at)),
        routed_at: Some(wire::timestamp(row.routed_at)),
        upstream_deadline: row.upstream_deadline.map(wire::calendar_date),
        unit_path: auth::unit_path_of(&row.unit_path),
        unit_kind: directory
            .unit(&row.unit_code)
            .map(|unit| unit.kind.to_proto().into())
            .unwrap_or_default(),
        revision: u32::try_from(row.revision).unwrap_or_default(),
        guidance_notice: standard_text(row, &row.guidance_notice),
        assignment_deadline: row.assignment_deadline.map(wire::calendar_date),
        reason: standard_text(row, &row.reason),
        previous_unit_code: row.previous_unit_code.clone().unwrap_or_default(),
        after_objection: row.after_objection,
        co_handling_units: row.co_handling(),
    }
}

/// What a decision says in words, for its event: the rules' own texts only. A clerk's
/// words may name people; they stay in routing, read over gRPC where access is checked.
fn standard_text(row: &decision::Model, text: &str) -> String {
    if row.decided_by == RULES {
        text.to_owned()
    } else {
        String::new()
    }
}

/// An assignment's deadline: the bureau's period from the day it assigns (China Standard
/// Time), or a higher bureau's deadline when that is sooner.
pub fn assignment_deadline(
    now: OffsetDateTime,
    days: u16,
    upstream: Option<time::Date>,
) -> time::Date {
    let today = wire::china_date(now);
    let own = today + time::Duration::days(i64::from(days));
    upstream.map_or(own, |upstream| upstream.min(own))
}
