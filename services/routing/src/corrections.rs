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

use crate::directory::Directory;
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

/// Why a clerk should look at the case again: the rules decide otherwise on the corrected
/// facts (`corrected`) than on the registered ones (`current`) — another unit, disposition
/// or legal track. A clerk's own routing is looked at again only then too.
pub fn review_reason(
    current: &decision::Model,
    corrected: &decision::Model,
    fields: &[String],
    directory: &Directory,
) -> Option<String> {
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
    let decided = |d: &crate::rules::Decision| (d.unit_code.clone(), d.disposition, d.track);
    if decided(&before) == decided(&after) {
        return None;
    }
    let fields = fields.join(", ");
    let held = current.disposition == Disposition::Triage.code();
    match (held, after.disposition == Disposition::Triage) {
        // Held, and still for a clerk: on the list already.
        (true, true) => None,
        (true, false) => Some(format!(
            "registration corrected ({fields}): the rules would now send it to {} (rule {}); a clerk routes it",
            after.unit_code, after.rule
        )),
        (false, true) => Some(format!(
            "registration corrected ({fields}): the rules can no longer route it ({}); it stays at {} until a clerk routes it again or keeps it there",
            after.reason, current.unit_code
        )),
        (false, false) => Some(format!(
            "registration corrected ({fields}): the rules now send it to {} (rule {}, {}), not as it was routed; it stays at {} until a clerk re-routes it (before the unit signs for it; after, only on an upheld objection) or keeps it there (RouteCase to {})",
            after.unit_code,
            after.rule,
            after
                .track
                .map_or("unclassified", crate::directory::LegalTrack::code),
            current.unit_code,
            current.unit_code
        )),
    }
}

/// Applies the correction's named fields to the decision's facts.
pub fn corrected(current: &decision::Model, correction: &Corrected) -> decision::Model {
    let named = |field: &str| correction.fields.iter().any(|f| f == field);
    decision::Model {
        territory_code: if named("territory_code") {
            correction.territory_code.clone()
        } else {
            current.territory_code.clone()
        },
        matter_category: if named("matter_category") {
            correction.matter_category.clone()
        } else {
            current.matter_category.clone()
        },
        correction_revision: correction.revision,
        ..current.clone()
    }
}

/// What routing knows of the case when a correction comes.
pub enum Known {
    Routed(Box<decision::Model>, Arc<Directory>),
    /// Not decided yet: a correction that came earlier, if any.
    NotYet(Option<pending_correction::Model>),
}

pub enum Outcome {
    /// A correction known already.
    Nothing,
    Decision(Box<decision::Model>),
    /// Kept for the decision to take.
    Pending(pending_correction::Model),
}

/// A correction for a decision to come, merged with one kept before.
fn pending(
    earlier: Option<pending_correction::Model>,
    correction: &Corrected,
) -> pending_correction::Model {
    let named = |field: &str| correction.fields.iter().any(|f| f == field);
    let earlier = earlier.unwrap_or(pending_correction::Model {
        case_id: correction.case_id,
        revision: 0,
        territory_code: None,
        matter_category: None,
    });
    pending_correction::Model {
        revision: correction.revision,
        territory_code: if named("territory_code") {
            Some(correction.territory_code.clone())
        } else {
            earlier.territory_code.clone()
        },
        matter_category: if named("matter_category") {
            Some(correction.matter_category.clone())
        } else {
            earlier.matter_category.clone()
        },
        ..earlier
    }
}

impl Change for RecordCorrection {
    type State = Known;
    type Outcome = Outcome;
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Known, Failure> {
        let case_id = self.corrected.case_id;
        let Some(current) = decision::Entity::find_by_id(case_id)
            .lock_exclusive()
            .one(transaction)
            .await?
        else {
            return Ok(Known::NotYet(
                pending_correction::Entity::find_by_id(case_id)
                    .one(transaction)
                    .await?,
            ));
        };
        lock_directory(transaction, false).await?;
        match self.versions.in_effect(transaction).await {
            Ok(directory) => Ok(Known::Routed(Box::new(current), directory)),
            Err(VersionsError::Database(error)) => Err(error.into()),
            Err(damaged) => Err(Failure::Transient(damaged.to_string())),
        }
    }

    fn decide(&self, known: Known, _now: OffsetDateTime) -> Result<Decided<Outcome>, Failure> {
        let correction = &self.corrected;
        let (current, directory) = match known {
            Known::NotYet(earlier) => {
                if earlier
                    .as_ref()
                    .is_some_and(|earlier| earlier.revision >= correction.revision)
                {
                    return Ok(Decided::quietly(Outcome::Nothing));
                }
                return Ok(Decided::quietly(Outcome::Pending(pending(
                    earlier, correction,
                ))));
            }
            Known::Routed(current, directory) => (current, directory),
        };
        if correction.revision <= current.correction_revision {
            return Ok(Decided::quietly(Outcome::Nothing));
        }
        let mut next = corrected(&current, correction);
        if next.territory_code != current.territory_code
            || next.matter_category != current.matter_category
        {
            next.review_reason = review_reason(&current, &next, &correction.fields, &directory)
                .or(current.review_reason.clone());
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
                            pending_correction::Column::Revision,
                            pending_correction::Column::TerritoryCode,
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

    /// A land matter in 赵村镇 the rules forwarded there, its category now corrected.
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
            correction_revision: 1,
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

    #[test]
    fn a_category_the_rules_send_elsewhere_asks_a_clerk_to_look_again() {
        let fields = ["matter_category".to_owned()];
        let case = forwarded("land-acquisition", "category:land-acquisition/territory");
        let why = review_reason(&case, &with(&case, "zhaocun", "housing"), &fields, &demo())
            .expect("a review");
        assert!(
            why.contains("zhujian") && why.contains("stays at zhaocun"),
            "{why}"
        );
    }

    #[test]
    fn a_correction_the_rules_decide_the_same_way_asks_nothing() {
        let fields = ["territory_code".to_owned()];
        let case = forwarded("land-acquisition", "category:land-acquisition/territory");
        let moved = with(&case, "zhaocun-tiefo", "land-acquisition");
        assert_eq!(review_reason(&case, &moved, &fields, &demo()), None);
    }

    #[test]
    fn a_clerks_own_routing_is_looked_at_again_only_when_the_rules_change_their_answer() {
        // A clerk sent a land matter of 赵村镇 to 住建局; a correction of the village within
        // the town leaves the rules' answer as it was, so the clerk's stands.
        let fields = ["territory_code".to_owned()];
        let case = decision::Model {
            unit_code: "zhujian".into(),
            rule: "by-hand".into(),
            decided_by: "clerk".into(),
            ..forwarded("land-acquisition", "by-hand")
        };
        let moved = with(&case, "zhaocun-tiefo", "land-acquisition");
        assert_eq!(review_reason(&case, &moved, &fields, &demo()), None);
    }

    #[test]
    fn a_desks_own_case_stays_with_the_desk() {
        // 首接首办: 赵村镇 registered it at its own desk; a housing matter stays there too.
        let fields = ["matter_category".to_owned()];
        let case = forwarded("land-acquisition", "first-contact");
        let housing = with(&case, "zhaocun", "housing");
        assert_eq!(review_reason(&case, &housing, &fields, &demo()), None);
    }

    #[test]
    fn a_held_case_the_rules_could_now_route_says_where() {
        let fields = ["matter_category".to_owned()];
        let case = decision::Model {
            disposition: Disposition::Triage.code().into(),
            unit_code: "xfj".into(),
            ..forwarded("no-such-category", "unknown-category")
        };
        let why = review_reason(&case, &with(&case, "zhaocun", "housing"), &fields, &demo())
            .expect("a review");
        assert!(why.contains("would now send it to zhujian"), "{why}");
        let still_unknown = with(&case, "zhaocun", "another-unknown");
        assert_eq!(review_reason(&case, &still_unknown, &fields, &demo()), None);
    }

    #[test]
    fn only_the_named_fields_are_taken() {
        // A clerk classified the case as housing when routing it by hand; a correction of
        // the territory keeps that.
        let case = forwarded("housing", "by-hand");
        let correction = Corrected {
            case_id: case.case_id,
            revision: 2,
            territory_code: "zhaocun-tiefo".into(),
            matter_category: "land-acquisition".into(),
            fields: vec!["territory_code".into()],
        };
        let next = corrected(&case, &correction);
        assert_eq!(
            (
                next.territory_code.as_str(),
                next.matter_category.as_str(),
                next.correction_revision
            ),
            ("zhaocun-tiefo", "housing", 2)
        );
    }

    #[test]
    fn a_correction_before_the_decision_waits_merged_with_an_earlier_one() {
        let case_id = uuid::Uuid::nil();
        let first = Corrected {
            case_id,
            revision: 1,
            territory_code: "zhaocun-tiefo".into(),
            matter_category: "land-acquisition".into(),
            fields: vec!["territory_code".into()],
        };
        let second = Corrected {
            revision: 2,
            matter_category: "housing".into(),
            fields: vec!["matter_category".into()],
            ..first.clone()
        };
        let waiting = pending(Some(pending(None, &first)), &second);
        assert_eq!(
            waiting,
            pending_correction::Model {
                case_id,
                revision: 2,
                territory_code: Some("zhaocun-tiefo".into()),
                matter_category: Some("housing".into()),
            }
        );
    }
}
