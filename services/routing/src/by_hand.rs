//! A clerk routes a case by hand: one held for triage, or one the rules sent elsewhere (an
//! override). Each is a new revision of the case's decision, kept with who decided and
//! why; the earlier one moves to `routing_revision`, and the event names the revision so
//! that every service follows the newest. Never to the accused unit or a unit under it
//! (Art 30).

use std::sync::Arc;

use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QuerySelect};
use time::{Date, OffsetDateTime};
use uuid::Uuid;
use xinfang_platform::auth::{self, Authorized};
use xinfang_platform::grpc::FieldViolation;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::routing::v1::PetitionRouted;
use xinfang_proto::subjects;
use xinfang_proto::v1::CaseStage;
use xinfang_proto::vocabulary::{Disposition, UnitKind};

use crate::directory::Directory;
use crate::error::CommandError;
use crate::route::{RULES, SERVICE, assignment_deadline, routed_event};
use crate::rules::guidance_notice;
use crate::store::{decision, linked_case, revision};
use crate::versions::{DirectoryVersions, lock_directory};

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
    /// Where a routed case stands in its unit's procedure, and which routing revision
    /// supervision follows; `None` for a case held for triage (not asked).
    pub stage: Option<(CaseStage, u32)>,
    /// The co-handling units (协办) beside the lead unit.
    pub co_handling_units: Vec<String>,
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
) -> Result<Option<decision::Model>, CommandError> {
    let Some(unit) = directory.unit(&by_hand.unit_code) else {
        return Err(CommandError::InvalidArgument(vec![FieldViolation::new(
            "unit_code",
            format!(
                "{:?} is not in directory {}",
                by_hand.unit_code, directory.version
            ),
        )]));
    };
    if unit.retired {
        return Err(CommandError::invalid(
            "unit_code",
            format!("{} is retired: it is sent no new case", unit.name),
        ));
    }
    if !may_receive(unit.kind, by_hand.disposition) {
        return Err(CommandError::InvalidArgument(vec![FieldViolation::new(
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
            CommandError::InvalidArgument(vec![FieldViolation::new(
                "matter_category",
                format!("{code:?} is not in category table {}", directory.version),
            )])
        })?),
        None => directory.category(&current.matter_category),
    };
    let Some(category) = category else {
        return Err(CommandError::InvalidArgument(vec![FieldViolation::new(
            "matter_category",
            "is required: the case's category is not in the table; classify it (ListCategories)",
        )]));
    };
    if by_hand.disposition == Disposition::Divert
        && category.track != xinfang_proto::vocabulary::LegalTrack::StatutoryChannel
    {
        return Err(CommandError::InvalidArgument(vec![FieldViolation::new(
            "disposition",
            format!(
                "{} is not a matter for a statutory channel: it is forwarded or assigned, not diverted",
                category.name
            ),
        )]));
    }
    if current.rule == "final-matter" {
        return Err(CommandError::FailedPrecondition(format!(
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
                return Err(CommandError::InvalidArgument(vec![FieldViolation::new(
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
            return Err(CommandError::InvalidArgument(vec![FieldViolation::new(
                "accused_unit_code",
                "is required: the case is held because the accused unit is not known; name it, so the case is kept from it (Art 30)",
            )]));
        }
        (None, registered) => registered.clone(),
    };
    if let Some(accused) = accused.as_deref()
        && directory.is_within(&by_hand.unit_code, accused)
    {
        return Err(CommandError::FailedPrecondition(format!(
            "{} is or lies under the accused unit {accused}: an accusation never goes to the accused (Art 30)",
            by_hand.unit_code
        )));
    }
    let co_handling = co_handling(by_hand, accused.as_deref(), directory)?;
    let held = current.disposition == Disposition::Triage.code();
    let same_place = current.unit_code == by_hand.unit_code
        && current.disposition == by_hand.disposition.code()
        && current.co_handling() == co_handling;
    let reclassified = category.code.to_string() != current.matter_category
        || category.track.code() != current.track;
    if same_place && !reclassified {
        return Ok(None);
    }
    let after_objection = if same_place {
        // Classified anew where it is (a corrected category, say): nothing moves, whatever
        // the stage; but a unit whose objection was upheld does not get the case back.
        if matches!(by_hand.stage, Some((CaseStage::Returned, _))) {
            return Err(CommandError::FailedPrecondition(format!(
                "the bureau upheld {}'s objection: case {} goes to another unit",
                current.unit_code, current.case_number
            )));
        }
        false
    } else {
        !held && may_move(current, by_hand)?
    };
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
        return Err(CommandError::InvalidArgument(vec![FieldViolation::new(
            "assignment_deadline",
            format!("{set} is later than the higher bureau's deadline, {upstream}"),
        )]));
    }
    let assignment = (by_hand.disposition == Disposition::Assign).then(|| {
        by_hand
            .assignment_deadline
            .unwrap_or_else(|| assignment_deadline(now, assignment_days, current.upstream_deadline))
    });
    // Who may see the case: the lead unit and each co-handling unit, with the units above.
    let mut unit_path = directory.path(&by_hand.unit_code);
    for unit in &co_handling {
        for on_path in directory.path(unit) {
            if !unit_path.contains(&on_path) {
                unit_path.push(on_path);
            }
        }
    }
    Ok(Some(decision::Model {
        unit_code: by_hand.unit_code.clone(),
        unit_path: auth::stored_unit_path(&unit_path),
        co_handling_units: co_handling.join(" "),
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
        // Only a move to another lead unit leaves one.
        previous_unit_code: (!held && current.unit_code != by_hand.unit_code)
            .then(|| current.unit_code.clone()),
        after_objection,
        // The clerk looked again.
        review_reason: None,
        ..current.clone()
    }))
}

/// The co-handling units (协办), checked: each a unit that handles cases, in service, not the
/// lead unit, never the accused or under it (Art 30); only beside a forward or assignment.
fn co_handling(
    by_hand: &ByHand,
    accused: Option<&str>,
    directory: &Directory,
) -> Result<Vec<String>, CommandError> {
    if by_hand.co_handling_units.is_empty() {
        return Ok(Vec::new());
    }
    if by_hand.disposition == Disposition::Divert {
        return Err(CommandError::invalid(
            "co_handling_units",
            "a diverted matter goes to its statutory channel alone",
        ));
    }
    let mut violations = Vec::new();
    for (at, code) in by_hand.co_handling_units.iter().enumerate() {
        let field = format!("co_handling_units[{at}]");
        match directory.unit(code) {
            None => violations.push(FieldViolation::new(
                field,
                format!("{code:?} is not in directory {}", directory.version),
            )),
            Some(unit) if unit.retired || !may_receive(unit.kind, Disposition::Forward) => {
                violations.push(FieldViolation::new(
                    field,
                    format!("{} does not handle cases", unit.name),
                ));
            }
            Some(_) if *code == by_hand.unit_code => violations.push(FieldViolation::new(
                field,
                "is the lead unit: a co-handling unit is another",
            )),
            Some(_) => {}
        }
    }
    if !violations.is_empty() {
        return Err(CommandError::InvalidArgument(violations));
    }
    if let Some(accused) = accused
        && let Some(code) = by_hand
            .co_handling_units
            .iter()
            .find(|code| directory.is_within(code, accused))
    {
        return Err(CommandError::FailedPrecondition(format!(
            "{code} is or lies under the accused unit {accused}: an accusation never goes to the accused (Art 30)"
        )));
    }
    Ok(by_hand.co_handling_units.clone())
}

/// Whether a routed case may move now, given where it stands in its unit's procedure:
/// `true` when it moves because the bureau upheld the unit's objection, so that the
/// routing it leaves counts as wrong. Before its unit signs for it, the bureau may correct
/// the rules' decision; once signed for, only the unit's objection (within 5 working days
/// of the sign-for, Art 23), upheld, moves it.
fn may_move(current: &decision::Model, by_hand: &ByHand) -> Result<bool, CommandError> {
    let Some((stage, followed)) = by_hand.stage else {
        return Err(CommandError::FailedPrecondition(format!(
            "where case {} stands in its procedure is not known",
            current.case_number
        )));
    };
    // What supervision says must be about this routing, not the one before: it follows
    // each revision as its event arrives.
    if stage != CaseStage::Registered && i64::from(followed) != i64::from(current.revision) {
        return Err(CommandError::Unavailable(format!(
            "supervision has not yet followed case {} to {} (revision {}); retry shortly",
            current.case_number, current.unit_code, current.revision
        )));
    }
    let before_sign_for = matches!(
        stage,
        CaseStage::Registered
            | CaseStage::HeldForTriage
            | CaseStage::AwaitingSignFor
            | CaseStage::Diverted
    );
    match stage {
        CaseStage::Returned if by_hand.unit_code == current.unit_code => {
            Err(CommandError::FailedPrecondition(format!(
                "the bureau upheld {}'s objection: case {} goes to another unit",
                current.unit_code, current.case_number
            )))
        }
        CaseStage::Returned => Ok(true),
        _ if before_sign_for && current.decided_by == RULES => Ok(false),
        _ if before_sign_for => Err(CommandError::FailedPrecondition(format!(
            "case {} was routed by hand already (revision {}); it moves again only if {} objects and the bureau upholds the objection",
            current.case_number, current.revision, current.unit_code
        ))),
        _ => Err(CommandError::FailedPrecondition(format!(
            "case {} is {} at {}: it moves only if the unit objects within 5 working days of signing for it and the bureau upholds the objection (Art 23)",
            current.case_number,
            stage_words(stage),
            current.unit_code
        ))),
    }
}

fn stage_words(stage: CaseStage) -> String {
    stage
        .as_str_name()
        .trim_start_matches("CASE_STAGE_")
        .to_lowercase()
        .replace('_', " ")
}

pub struct RouteByHand {
    pub by_hand: ByHand,
    pub versions: DirectoryVersions,
    pub authorized: Authorized,
    pub assignment_days: u16,
}

/// What a clerk's routing did.
pub enum ByHandOutcome {
    /// A new revision, and the one it replaces.
    Moved(Box<(decision::Model, decision::Model)>),
    /// Left where it was, the review its corrected registration asked for done.
    Kept(Box<decision::Model>),
}

impl Change for RouteByHand {
    /// The case's decision, and the directory in effect.
    type State = (decision::Model, Arc<Directory>);
    /// The new revision and the one it replaces; `None` when it changes nothing.
    type Outcome = Option<ByHandOutcome>;
    type Error = CommandError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, CommandError> {
        let current = decision::Entity::find_by_id(self.by_hand.case_id)
            .lock_exclusive()
            .one(transaction)
            .await?
            .ok_or_else(|| {
                CommandError::NotFound(format!(
                    "no routing decision for case {} (not registered, or not routed yet)",
                    self.by_hand.case_id
                ))
            })?;
        if let Some(link) = linked_case::Entity::find_by_id(self.by_hand.case_id)
            .one(transaction)
            .await?
        {
            return Err(CommandError::FailedPrecondition(format!(
                "case {} is linked into case {}, which carries the matter: it is routed with that case, not on its own",
                current.case_number, link.into_case_number
            )));
        }
        lock_directory(transaction, false).await?;
        Ok((current, self.versions.in_effect(transaction).await?))
    }

    fn decide(
        &self,
        (current, directory): Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, CommandError> {
        let Some(next) = decide_by_hand(
            &current,
            &self.by_hand,
            &directory,
            &self.authorized.caller.subject,
            self.assignment_days,
            now,
        )?
        else {
            // Routed where it is: a clerk who looked again at a case its corrected
            // registration put on the list keeps it there.
            let kept = current
                .review_reason
                .is_some()
                .then_some(ByHandOutcome::Kept(Box::new(decision::Model {
                    review_reason: None,
                    ..current
                })));
            return Ok(Decided::quietly(kept));
        };
        let routed = routed_event(&next, &directory);
        let mut events = vec![OutgoingEvent::new(
            subjects::petition_routed(&next.unit_code),
            SERVICE,
            next.case_id,
            now,
            &routed,
        )];
        // Each co-handling unit learns it on its own subject (its feed).
        for unit in next.co_handling() {
            events.push(OutgoingEvent::new(
                subjects::petition_cohandled(&unit),
                SERVICE,
                next.case_id,
                now,
                &routed,
            ));
        }
        // The unit the case left learns it on its own subject (its feed), told no more
        // than that the case moved, and where.
        if let Some(previous) = &next.previous_unit_code {
            events.push(OutgoingEvent::new(
                subjects::petition_moved(previous),
                SERVICE,
                next.case_id,
                now,
                &PetitionRouted {
                    case_id: routed.case_id.clone(),
                    case_number: routed.case_number.clone(),
                    unit_code: routed.unit_code.clone(),
                    routed_at: routed.routed_at,
                    revision: routed.revision,
                    previous_unit_code: previous.clone(),
                    after_objection: routed.after_objection,
                    ..Default::default()
                },
            ));
        }
        Ok(Decided {
            outcome: Some(ByHandOutcome::Moved(Box::new((next, current)))),
            events,
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        outcome: &Self::Outcome,
    ) -> Result<(), CommandError> {
        let (next, previous) = match outcome {
            None => return Ok(()),
            Some(ByHandOutcome::Kept(kept)) => {
                kept.as_ref()
                    .clone()
                    .into_active_model()
                    .reset_all()
                    .update(transaction)
                    .await?;
                self.authorized
                    .audit_in(
                        transaction,
                        Some(kept.case_id),
                        &format!(
                            "kept at {} after its registration was corrected: {}",
                            kept.unit_code, self.by_hand.reason
                        ),
                    )
                    .await?;
                return Ok(());
            }
            Some(ByHandOutcome::Moved(moved)) => (&moved.0, &moved.1),
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
            directory_version: previous.directory_version.clone(),
            matter_category: previous.matter_category.clone(),
            track: previous.track.clone(),
            wrong_routing: next.after_objection,
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
                    "routed by hand to {} (revision {}{}): {}",
                    next.unit_code,
                    next.revision,
                    if next.after_objection {
                        ", the objection of the previous unit upheld"
                    } else {
                        ""
                    },
                    next.reason
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
