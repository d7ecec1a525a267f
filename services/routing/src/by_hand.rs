//! A clerk routes a case by hand: one held for triage, or one the rules sent elsewhere (an
//! override). Each is a new revision of the case's decision, kept with who decided and
//! why; the earlier one moves to `routing_revision`, and the event names the revision so
//! that every service follows the newest. Never to the accused unit or a unit under it
//! (Art 30).

use std::sync::Arc;

use sea_orm::{
    ActiveModelTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, QuerySelect,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;
use xinfang_platform::auth::{self, Authorized};
use xinfang_platform::grpc::FieldViolation;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::subjects;
use xinfang_proto::vocabulary::{Disposition, UnitKind};

use crate::directory::Directory;
use crate::route::{RULES, SERVICE, assignment_deadline, routed_event};
use crate::rules::guidance_notice;
use crate::store::{decision, revision};

#[derive(Debug, thiserror::Error)]
pub enum ByHandError {
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// A clerk's routing, checked at the edge.
#[derive(Debug, Clone)]
pub struct ByHand {
    pub case_id: Uuid,
    pub unit_code: String,
    pub disposition: Disposition,
    pub reason: String,
    pub assignment_deadline: Option<Date>,
    pub guidance_notice: String,
    /// The accused unit as the clerk established it (a typo corrected).
    pub accused_unit_code: Option<String>,
    /// The matter category the clerk classifies the case under.
    pub matter_category: Option<String>,
}

/// Units a case may be sent to by hand: not the bureau, not a higher bureau; a diversion
/// only to a statutory channel (a statutory body or a political-legal organ).
fn may_receive(kind: UnitKind, disposition: Disposition) -> bool {
    match disposition {
        Disposition::Divert => matches!(kind, UnitKind::StatutoryBody | UnitKind::PoliticalLegal),
        _ => !matches!(kind, UnitKind::Bureau | UnitKind::HigherBureau),
    }
}

/// Rules under which the case was held because of whom it accuses.
const HELD_FOR_THE_ACCUSED: [&str; 2] = ["unknown-accused-unit", "accused-withheld"];

/// Decides a clerk's routing of the case as it stands. Pure.
pub fn decide_by_hand(
    current: &decision::Model,
    by_hand: &ByHand,
    directory: &Directory,
    clerk: &str,
    assignment_days: u16,
    now: OffsetDateTime,
) -> Result<Option<decision::Model>, ByHandError> {
    let Some(unit) = directory.unit(&by_hand.unit_code) else {
        return Err(ByHandError::InvalidArgument(vec![FieldViolation::new(
            "unit_code",
            format!(
                "{:?} is not in directory {}",
                by_hand.unit_code, directory.version
            ),
        )]));
    };
    if !may_receive(unit.kind, by_hand.disposition) {
        return Err(ByHandError::InvalidArgument(vec![FieldViolation::new(
            "unit_code",
            format!(
                "{} cannot be sent this case as {}: not a unit that handles cases, or, for a diversion, not a statutory channel",
                unit.name,
                by_hand.disposition.code()
            ),
        )]));
    }
    // The category (and so the legal track): the clerk's, else the registered one. A case
    // no category classified is not routed unclassified.
    let category = match by_hand.matter_category.as_deref() {
        Some(code) => Some(directory.category(code).ok_or_else(|| {
            ByHandError::InvalidArgument(vec![FieldViolation::new(
                "matter_category",
                format!("{code:?} is not in category table {}", directory.version),
            )])
        })?),
        None => directory.category(&current.matter_category),
    };
    let Some(category) = category else {
        return Err(ByHandError::InvalidArgument(vec![FieldViolation::new(
            "matter_category",
            "is required: the case's category is not in the table; classify it (ListCategories)",
        )]));
    };
    if by_hand.disposition == Disposition::Divert
        && category.track != xinfang_proto::vocabulary::LegalTrack::StatutoryChannel
    {
        return Err(ByHandError::InvalidArgument(vec![FieldViolation::new(
            "disposition",
            format!(
                "{} is not a matter for a statutory channel: it is forwarded or assigned, not diverted",
                category.name
            ),
        )]));
    }
    if current.rule == "final-matter" {
        return Err(ByHandError::FailedPrecondition(format!(
            "case {} repeats a matter final after re-review (Art 36): it is not accepted again, so it goes to no unit",
            current.case_number
        )));
    }
    // Who is accused: the clerk's correction of a mistyped code, else what was registered.
    // A case held because of whom it accuses is never routed without knowing that unit.
    let held_for_the_accused = HELD_FOR_THE_ACCUSED
        .iter()
        .any(|rule| current.rule.ends_with(rule));
    let accused = match (&by_hand.accused_unit_code, &current.accused_unit_code) {
        (Some(corrected), _) => {
            if directory.unit(corrected).is_none() {
                return Err(ByHandError::InvalidArgument(vec![FieldViolation::new(
                    "accused_unit_code",
                    format!(
                        "{corrected:?} is not in directory {} either",
                        directory.version
                    ),
                )]));
            }
            Some(corrected.clone())
        }
        (None, Some(registered)) if directory.unit(registered).is_some() => {
            Some(registered.clone())
        }
        (None, _) if held_for_the_accused => {
            return Err(ByHandError::InvalidArgument(vec![FieldViolation::new(
                "accused_unit_code",
                "is required: the case is held because the accused unit is not known; name it, so the case is kept from it (Art 30)",
            )]));
        }
        (None, registered) => registered.clone(),
    };
    if let Some(accused) = accused.as_deref()
        && directory.is_within(&by_hand.unit_code, accused)
    {
        return Err(ByHandError::FailedPrecondition(format!(
            "{} is or lies under the accused unit {accused}: an accusation never goes to the accused (Art 30)",
            by_hand.unit_code
        )));
    }
    let clerk_decided = current.decided_by != RULES;
    let held = current.disposition == Disposition::Triage.code();
    if clerk_decided && !held {
        // Re-routing a case a clerk already routed is the objection procedure's.
        return Err(ByHandError::FailedPrecondition(format!(
            "case {} was routed by hand already (revision {}); it moves again only through the unit's objection",
            current.case_number, current.revision
        )));
    }
    let same =
        current.unit_code == by_hand.unit_code && current.disposition == by_hand.disposition.code();
    if same {
        return Ok(None);
    }
    let guidance = match by_hand.disposition {
        Disposition::Divert if by_hand.guidance_notice.is_empty() => {
            guidance_notice(&category.name, &unit.name, &category.legal_basis)
        }
        Disposition::Divert => by_hand.guidance_notice.clone(),
        _ => String::new(),
    };
    if let (Some(set), Some(upstream)) = (by_hand.assignment_deadline, current.upstream_deadline)
        && set > upstream
    {
        return Err(ByHandError::InvalidArgument(vec![FieldViolation::new(
            "assignment_deadline",
            format!("{set} is later than the higher bureau's deadline, {upstream}"),
        )]));
    }
    let assignment = (by_hand.disposition == Disposition::Assign).then(|| {
        by_hand
            .assignment_deadline
            .unwrap_or_else(|| assignment_deadline(now, assignment_days, current.upstream_deadline))
    });
    Ok(Some(decision::Model {
        unit_code: by_hand.unit_code.clone(),
        unit_path: auth::stored_unit_path(&directory.path(&by_hand.unit_code)),
        disposition: by_hand.disposition.code().to_owned(),
        rule: "by-hand".to_owned(),
        reason: by_hand.reason.clone(),
        directory_version: directory.version.clone(),
        routed_at: now,
        revision: current.revision + 1,
        decided_by: clerk.to_owned(),
        guidance_notice: guidance,
        assignment_deadline: assignment,
        accused_unit_code: accused,
        matter_category: category.code.to_string(),
        track: category.track.code().to_owned(),
        ..current.clone()
    }))
}

pub struct RouteByHand {
    pub by_hand: ByHand,
    pub directory: Arc<Directory>,
    pub authorized: Authorized,
    pub assignment_days: u16,
}

impl Change for RouteByHand {
    type State = decision::Model;
    /// The new revision, and the one it replaces; `None` when it changes nothing.
    type Outcome = Option<(decision::Model, decision::Model)>;
    type Error = ByHandError;

    async fn load(
        &self,
        transaction: &DatabaseTransaction,
    ) -> Result<decision::Model, ByHandError> {
        decision::Entity::find_by_id(self.by_hand.case_id)
            .lock_exclusive()
            .one(transaction)
            .await?
            .ok_or_else(|| {
                ByHandError::NotFound(format!(
                    "no routing decision for case {} (not registered, or not routed yet)",
                    self.by_hand.case_id
                ))
            })
    }

    fn decide(
        &self,
        current: decision::Model,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, ByHandError> {
        let Some(next) = decide_by_hand(
            &current,
            &self.by_hand,
            &self.directory,
            &self.authorized.caller.subject,
            self.assignment_days,
            now,
        )?
        else {
            return Ok(Decided::quietly(None));
        };
        let event = OutgoingEvent::new(
            subjects::petition_routed(&next.unit_code),
            SERVICE,
            next.case_id,
            now,
            &routed_event(&next, &self.directory),
        );
        Ok(Decided {
            outcome: Some((next, current)),
            events: vec![event],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        outcome: &Self::Outcome,
    ) -> Result<(), ByHandError> {
        let Some((next, previous)) = outcome else {
            return Ok(());
        };
        revision::Entity::insert(revision::ActiveModel::from(revision::Model {
            case_id: previous.case_id,
            revision: previous.revision,
            unit_code: previous.unit_code.clone(),
            disposition: previous.disposition.clone(),
            rule: previous.rule.clone(),
            reason: previous.reason.clone(),
            decided_by: previous.decided_by.clone(),
            routed_at: previous.routed_at,
        }))
        .exec_without_returning(transaction)
        .await?;
        next.clone()
            .into_active_model()
            .reset_all()
            .update(transaction)
            .await?;
        self.authorized
            .audit_in(
                transaction,
                Some(next.case_id),
                &format!(
                    "routed by hand to {} (revision {}): {}",
                    next.unit_code, next.revision, next.reason
                ),
            )
            .await?;
        tracing::info!(case = %next.case_number, unit = %next.unit_code, revision = next.revision, "routed by hand");
        Ok(())
    }
}

#[cfg(test)]
#[path = "by_hand_tests.rs"]
mod tests;
