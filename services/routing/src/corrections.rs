//! Routing follows corrected registrations: the decision takes the corrected territory and
//! matter category (what a clerk's routing reads), and a routed case the rules would now
//! send elsewhere goes on the triage list with why. A correction never moves a case by
//! itself: whether it may still move is the procedure's question (`by_hand`).

use std::sync::Arc;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QuerySelect};
use time::OffsetDateTime;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::intake::v1::PetitionCorrected;

use crate::directory::{Directory, LegalTrack};
use crate::rules::{CaseToRoute, Disposition, route};
use crate::store::{decision, pending_correction};
use crate::versions::{DirectoryVersions, VersionsError, lock_directory};

pub struct FollowCorrections {
    pub versions: DirectoryVersions,
}

#[derive(Debug, Clone)]
pub struct Corrected {
    pub case_id: uuid::Uuid,
    pub revision: i32,
    pub territory_code: String,
    pub matter_category: String,
    /// Which fields the clerk changed: only these are taken.
    pub fields: Vec<String>,
}

impl Corrected {
    fn names(&self, field: &str) -> bool {
        self.fields.iter().any(|named| named == field)
    }
}

impl Handler for FollowCorrections {
    type Event = Corrected;
    type Change = RecordCorrection;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<Corrected, String> {
        let event: PetitionCorrected = decode_event(envelope, payload)?;
        let case_id = event_case_id(&event.case_id, envelope)?;
        if event.revision == 0
            || event.territory_code.is_empty()
            || event.matter_category.is_empty()
        {
            return Err(
                "a correction has a revision, a territory and a matter category".to_owned(),
            );
        }
        Ok(Corrected {
            case_id,
            revision: i32::try_from(event.revision)
                .map_err(|_| format!("revision {} is out of range", event.revision))?,
            territory_code: event.territory_code,
            matter_category: event.matter_category,
            fields: event.corrected_fields,
        })
    }

    fn change(&self, _envelope: &Envelope, corrected: &Corrected) -> RecordCorrection {
        RecordCorrection {
            versions: self.versions.clone(),
            corrected: corrected.clone(),
        }
    }
}

pub struct RecordCorrection {
    versions: DirectoryVersions,
    corrected: Corrected,
}

/// The rules' inputs a decision keeps, with the territory and category given.
fn as_routed<'a>(
    current: &'a decision::Model,
    territory: &'a str,
    category: &'a str,
) -> CaseToRoute<'a> {
    CaseToRoute {
        territory,
        matter_category: category,
        accused_unit: current.accused_unit_code.as_deref(),
        upstream: current
            .assignment_deadline
            .map(|_| xinfang_proto::v1::UpstreamDisposition::Assigned),
        repeats_final_case: None,
        repeat_of_case: None,
        // A desk's own registration stays with the desk (首接首办).
        registered_at_unit: (current.rule == "first-contact").then_some(current.unit_code.as_str()),
        proposed_link: None,
        linked_into: None,
    }
}

/// Holds that come from something other than the facts a clerk corrects: a repeat, a final
/// matter, a link. A correction changes nothing about them.
const HELD_FOR_OTHER_REASONS: [&str; 4] = ["final-matter", "repeat", "upstream-link", "linked"];

/// What a correction asks of a clerk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    /// The rules now decide otherwise than before the correction, and otherwise than where
    /// the case is: why a clerk should look again.
    Ask(String),
    /// The case is where the rules now send it: nothing to look at (any earlier ask is
    /// answered).
    Settled,
    /// The correction changes nothing the rules decide on: as it was.
    Unchanged,
}

/// Whether a clerk should look at the case again after its facts went from `current`'s to
/// `corrected`'s: the rules' answer (unit, disposition, legal track) changed, and is not
/// where the case stands.
pub fn review(
    current: &decision::Model,
    corrected: &decision::Model,
    fields: &[String],
    directory: &Directory,
) -> Review {
    let held = current.disposition == Disposition::Triage.code();
    if held && HELD_FOR_OTHER_REASONS.contains(&current.rule.as_str()) {
        return Review::Unchanged;
    }
    let before = route(
        &as_routed(current, &current.territory_code, &current.matter_category),
        directory,
    );
    let after = route(
        &as_routed(
            corrected,
            &corrected.territory_code,
            &corrected.matter_category,
        ),
        directory,
    );
    let answer = |d: &crate::rules::Decision| {
        (
            d.unit_code.clone(),
            d.disposition.code().to_owned(),
            d.track
                .map_or(crate::rules::UNCLASSIFIED, LegalTrack::code)
                .to_owned(),
        )
    };
    let standing = (
        current.unit_code.clone(),
        current.disposition.clone(),
        current.track.clone(),
    );
    if answer(&after) == standing {
        return Review::Settled;
    }
    if answer(&before) == answer(&after) {
        return Review::Unchanged;
    }
    let fields = fields.join(", ");
    Review::Ask(match (held, after.disposition == Disposition::Triage) {
        (true, _) => format!(
            "registration corrected ({fields}): the rules would now send it to {} (rule {}); a clerk routes it",
            after.unit_code, after.rule
        ),
        (false, true) => format!(
            "registration corrected ({fields}): the rules can no longer route it ({}); it stays at {} until a clerk routes it again or keeps it there",
            after.reason, current.unit_code
        ),
        (false, false) => format!(
            "registration corrected ({fields}): the rules now send it to {} (rule {}, {}); it stays at {} until a clerk re-routes it (before the unit signs for it; after, only on an upheld objection) or keeps it there (RouteCase to {}, with the category it belongs to)",
            after.unit_code,
            after.rule,
            after
                .track
                .map_or(crate::rules::UNCLASSIFIED, LegalTrack::code),
            current.unit_code,
            current.unit_code
        ),
    })
}

/// Takes each field the correction names, unless a newer correction of it was taken (they
/// may arrive out of order); a field it does not name stays as it is (a clerk may have
/// classified the case when routing it).
pub fn corrected(current: &decision::Model, correction: &Corrected) -> decision::Model {
    let mut next = current.clone();
    if correction.names("territory_code") && correction.revision > current.territory_revision {
        next.territory_code = correction.territory_code.clone();
        next.territory_revision = correction.revision;
    }
    if correction.names("matter_category") && correction.revision > current.category_revision {
        next.matter_category = correction.matter_category.clone();
        next.category_revision = correction.revision;
    }
    next
}

/// What routing knows of the case when a correction comes.
pub enum Known {
    Routed(Box<decision::Model>, Arc<Directory>),
    /// Not decided yet: a correction that came earlier, if any.
    NotYet(Option<pending_correction::Model>),
}

pub enum Outcome {
    /// Nothing the decision does not know already.
    Nothing,
    Decision(Box<decision::Model>),
    /// Kept for the decision to take.
    Pending(pending_correction::Model),
}

/// A correction for a decision to come, merged field by field with one kept before.
fn pending(
    earlier: Option<pending_correction::Model>,
    correction: &Corrected,
) -> pending_correction::Model {
    let mut waiting = earlier.unwrap_or(pending_correction::Model {
        case_id: correction.case_id,
        territory_revision: 0,
        territory_code: None,
        category_revision: 0,
        matter_category: None,
    });
    if correction.names("territory_code") && correction.revision > waiting.territory_revision {
        waiting.territory_code = Some(correction.territory_code.clone());
        waiting.territory_revision = correction.revision;
    }
    if correction.names("matter_category") && correction.revision > waiting.category_revision {
        waiting.matter_category = Some(correction.matter_category.clone());
        waiting.category_revision = correction.revision;
    }
    waiting
}

impl Change for RecordCorrection {
    type State = Known;
    type Outcome = Outcome;
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Known, Failure> {
        let case_id = self.corrected.case_id;
        if let Some(current) = decision::Entity::find_by_id(case_id)
            .lock_exclusive()
            .one(transaction)
            .await?
        {
            lock_directory(transaction, false).await?;
            return match self.versions.in_effect(transaction).await {
                Ok(directory) => Ok(Known::Routed(Box::new(current), directory)),
                Err(VersionsError::Database(error)) => Err(error.into()),
                Err(damaged) => Err(Failure::Transient(damaged.to_string())),
            };
        }
        // No decision yet. Every decision reads the pending corrections under the shared
        // directory lock: taken exclusively, no decision is being made now, so this
        // correction is either read by the next one or finds it made (rare: a correction
        // before routing decided; the lock is held for a moment).
        lock_directory(transaction, true).await?;
        if decision::Entity::find_by_id(case_id)
            .one(transaction)
            .await?
            .is_some()
        {
            return Err(Failure::Transient(format!(
                "case {case_id} was routed meanwhile: the correction is taken on redelivery"
            )));
        }
        Ok(Known::NotYet(
            pending_correction::Entity::find_by_id(case_id)
                .one(transaction)
                .await?,
        ))
    }

    fn decide(&self, known: Known, _now: OffsetDateTime) -> Result<Decided<Outcome>, Failure> {
        let correction = &self.corrected;
        let (current, directory) = match known {
            Known::NotYet(earlier) => {
                let waiting = pending(earlier.clone(), correction);
                return Ok(Decided::quietly(if Some(&waiting) == earlier.as_ref() {
                    Outcome::Nothing
                } else {
                    Outcome::Pending(waiting)
                }));
            }
            Known::Routed(current, directory) => (current, directory),
        };
        let mut next = corrected(&current, correction);
        if next == *current {
            return Ok(Decided::quietly(Outcome::Nothing));
        }
        match review(&current, &next, &correction.fields, &directory) {
            Review::Ask(why) => next.review_reason = Some(why),
            Review::Settled => next.review_reason = None,
            Review::Unchanged => {}
        }
        Ok(Decided::quietly(Outcome::Decision(Box::new(next))))
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        outcome: &Outcome,
    ) -> Result<(), Failure> {
        match outcome {
            Outcome::Nothing => {}
            Outcome::Pending(pending) => {
                pending_correction::Entity::insert(pending_correction::ActiveModel::from(
                    pending.clone(),
                ))
                .on_conflict(
                    OnConflict::column(pending_correction::Column::CaseId)
                        .update_columns([
                            pending_correction::Column::TerritoryRevision,
                            pending_correction::Column::TerritoryCode,
                            pending_correction::Column::CategoryRevision,
                            pending_correction::Column::MatterCategory,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(transaction)
                .await?;
            }
            Outcome::Decision(next) => {
                next.as_ref()
                    .clone()
                    .into_active_model()
                    .reset_all()
                    .update(transaction)
                    .await?;
                if let Some(why) = &next.review_reason {
                    tracing::info!(case = %next.case_number, reason = %why, "corrected registration: on the triage list");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Directory {
        Directory::parse(include_str!("../directory/xingping.toml")).expect("demo directory")
    }

    /// A land matter in 赵村镇 the rules forwarded there.
    fn forwarded(category: &str, rule: &str) -> decision::Model {
        let at = time::macros::datetime!(2026-03-02 09:00 UTC);
        decision::Model {
            case_id: uuid::Uuid::nil(),
            case_number: "610481-2026-000001".into(),
            unit_code: "zhaocun".into(),
            unit_path: "/xfj/zhaocun/".into(),
            disposition: Disposition::Forward.code().into(),
            track: "appeal".into(),
            rule: rule.into(),
            reason: String::new(),
            directory_version: "xingping".into(),
            territory_code: "zhaocun".into(),
            matter_category: category.into(),
            received_at: at,
            routed_at: at,
            revision: 1,
            decided_by: "rules".into(),
            guidance_notice: String::new(),
            assignment_deadline: None,
            accused_unit_code: None,
            channel: "visit".into(),
            source_level: "local".into(),
            anonymous: false,
            upstream_deadline: None,
            previous_unit_code: None,
            after_objection: false,
            co_handling_units: String::new(),
            territory_revision: 0,
            category_revision: 0,
            review_reason: None,
        }
    }

    fn with(case: &decision::Model, territory: &str, category: &str) -> decision::Model {
        decision::Model {
            territory_code: territory.into(),
            matter_category: category.into(),
            ..case.clone()
        }
    }

    fn category() -> Vec<String> {
        vec!["matter_category".to_owned()]
    }

    #[test]
    fn a_category_the_rules_send_elsewhere_asks_a_clerk_to_look_again() {
        let case = forwarded("land-acquisition", "category:land-acquisition/territory");
        let Review::Ask(why) = review(
            &case,
            &with(&case, "zhaocun", "housing"),
            &category(),
            &demo(),
        ) else {
            panic!("a review");
        };
        assert!(
            why.contains("zhujian") && why.contains("stays at zhaocun"),
            "{why}"
        );
    }

    #[test]
    fn a_correction_the_rules_decide_the_same_way_asks_nothing() {
        let case = forwarded("land-acquisition", "category:land-acquisition/territory");
        let moved = with(&case, "zhaocun-tiefo", "land-acquisition");
        let fields = ["territory_code".to_owned()];
        assert_eq!(review(&case, &moved, &fields, &demo()), Review::Settled);
    }

    #[test]
    fn a_clerks_own_routing_is_looked_at_again_only_when_the_rules_change_their_answer() {
        // A clerk sent a land matter of 赵村镇 to 住建局; a correction of the village within
        // the town leaves the rules' answer as it was, so the clerk's stands.
        let case = decision::Model {
            unit_code: "zhujian".into(),
            decided_by: "clerk".into(),
            ..forwarded("land-acquisition", "by-hand")
        };
        let moved = with(&case, "zhaocun-tiefo", "land-acquisition");
        let fields = ["territory_code".to_owned()];
        assert_eq!(review(&case, &moved, &fields, &demo()), Review::Unchanged);
        // A correction that makes the rules agree with the clerk settles any earlier ask.
        let housing = with(&case, "zhaocun", "housing");
        assert_eq!(
            review(&case, &housing, &category(), &demo()),
            Review::Settled
        );
    }

    #[test]
    fn a_correction_taken_back_settles_the_ask() {
        let case = forwarded("land-acquisition", "category:land-acquisition/territory");
        let housing = with(&case, "zhaocun", "housing");
        assert!(matches!(
            review(&case, &housing, &category(), &demo()),
            Review::Ask(_)
        ));
        let back = with(&case, "zhaocun", "land-acquisition");
        assert_eq!(
            review(&housing, &back, &category(), &demo()),
            Review::Settled
        );
    }

    #[test]
    fn a_desks_own_case_stays_with_the_desk() {
        // 首接首办: 赵村镇 registered it at its own desk; a housing matter stays there too.
        let case = forwarded("land-acquisition", "first-contact");
        let housing = with(&case, "zhaocun", "housing");
        assert_eq!(
            review(&case, &housing, &category(), &demo()),
            Review::Settled
        );
    }

    #[test]
    fn a_held_case_the_rules_could_now_route_says_where() {
        let case = decision::Model {
            disposition: Disposition::Triage.code().into(),
            unit_code: "xfj".into(),
            track: crate::rules::UNCLASSIFIED.into(),
            ..forwarded("no-such-category", "unknown-category")
        };
        let Review::Ask(why) = review(
            &case,
            &with(&case, "zhaocun", "housing"),
            &category(),
            &demo(),
        ) else {
            panic!("a review");
        };
        assert!(why.contains("would now send it to zhujian"), "{why}");
        let still_unknown = with(&case, "zhaocun", "another-unknown");
        assert_eq!(
            review(&case, &still_unknown, &category(), &demo()),
            Review::Settled
        );
    }

    #[test]
    fn a_repeat_or_a_final_matter_stays_held_whatever_its_category() {
        for rule in HELD_FOR_OTHER_REASONS {
            let case = decision::Model {
                disposition: Disposition::Triage.code().into(),
                unit_code: "xfj".into(),
                ..forwarded("land-acquisition", rule)
            };
            let housing = with(&case, "zhaocun", "housing");
            assert_eq!(
                review(&case, &housing, &category(), &demo()),
                Review::Unchanged,
                "{rule}"
            );
        }
    }

    fn correction(revision: i32, field: &str, territory: &str, category: &str) -> Corrected {
        Corrected {
            case_id: uuid::Uuid::nil(),
            revision,
            territory_code: territory.into(),
            matter_category: category.into(),
            fields: vec![field.into()],
        }
    }

    #[test]
    fn only_the_named_fields_are_taken() {
        // A clerk classified the case as housing when routing it by hand; a correction of
        // the territory keeps that.
        let case = forwarded("housing", "by-hand");
        let next = corrected(
            &case,
            &correction(2, "territory_code", "zhaocun-tiefo", "land-acquisition"),
        );
        assert_eq!(
            (next.territory_code.as_str(), next.matter_category.as_str()),
            ("zhaocun-tiefo", "housing")
        );
    }

    #[test]
    fn corrections_arriving_out_of_order_each_take_their_own_field() {
        let case = forwarded("land-acquisition", "category:land-acquisition/territory");
        // Revision 3 (the category) is taken before revision 2 (the territory).
        let third = correction(3, "matter_category", "zhaocun-tiefo", "housing");
        let second = correction(2, "territory_code", "zhaocun-tiefo", "land-acquisition");
        let next = corrected(&corrected(&case, &third), &second);
        assert_eq!(
            (next.territory_code.as_str(), next.matter_category.as_str()),
            ("zhaocun-tiefo", "housing")
        );
        // Redelivered, nothing changes.
        assert_eq!(corrected(&next, &third), next);
        let waiting = pending(Some(pending(None, &third)), &second);
        assert_eq!(
            waiting,
            pending_correction::Model {
                case_id: uuid::Uuid::nil(),
                territory_revision: 2,
                territory_code: Some("zhaocun-tiefo".into()),
                category_revision: 3,
                matter_category: Some("housing".into()),
            }
        );
    }
}
