//! Routing follows corrected registrations: the decision takes the corrected territory and
//! matter category (what a clerk's routing reads), and a routed case the rules would now
//! send elsewhere goes on the triage list with why. A correction never moves a case by
//! itself: whether it may still move is the procedure's question (`by_hand`).

use std::sync::Arc;

use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QuerySelect};
use time::OffsetDateTime;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::intake::v1::PetitionCorrected;

use crate::directory::Directory;
use crate::rules::{CaseToRoute, Disposition, route};
use crate::store::decision;
use crate::versions::{DirectoryVersions, VersionsError, lock_directory};

pub struct FollowCorrections {
    pub versions: DirectoryVersions,
}

#[derive(Debug, Clone)]
pub struct Corrected {
    case_id: uuid::Uuid,
    revision: i32,
    territory_code: String,
    matter_category: String,
    fields: Vec<String>,
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

/// Why a clerk should look at a routed case again, if the rules would now decide otherwise.
pub fn review_reason(
    current: &decision::Model,
    fields: &[String],
    directory: &Directory,
) -> Option<String> {
    if current.disposition == Disposition::Triage.code() {
        // Held: a clerk routes it anyway, with the corrected facts.
        return None;
    }
    let case = CaseToRoute {
        territory: &current.territory_code,
        matter_category: &current.matter_category,
        accused_unit: current.accused_unit_code.as_deref(),
        upstream: None,
        repeats_final_case: None,
        repeat_of_case: None,
        // A desk's own registration stays with the desk (首接首办).
        registered_at_unit: (current.rule == "first-contact").then_some(current.unit_code.as_str()),
        proposed_link: None,
        linked_into: None,
    };
    let now = route(&case, directory);
    if now.disposition != Disposition::Triage && now.unit_code == current.unit_code {
        return None;
    }
    let corrected = fields.join(", ");
    Some(if now.disposition == Disposition::Triage {
        format!(
            "registration corrected ({corrected}): the rules can no longer route it ({}); a clerk routes it again, or keeps it at {}",
            now.reason, current.unit_code
        )
    } else {
        format!(
            "registration corrected ({corrected}): the rules now send it to {} (rule {}), not {}; a clerk re-routes it (before the unit signs for it; after, only on an upheld objection) or keeps it",
            now.unit_code, now.rule, current.unit_code
        )
    })
}

impl Change for RecordCorrection {
    type State = (decision::Model, Arc<Directory>);
    /// The decision as corrected; `None` for a correction known already.
    type Outcome = Option<decision::Model>;
    type Error = Failure;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, Failure> {
        let current = decision::Entity::find_by_id(self.corrected.case_id)
            .lock_exclusive()
            .one(transaction)
            .await?
            // Corrected after registration: its routing is on its way.
            .ok_or_else(|| {
                Failure::Transient(format!("case {} is not routed yet", self.corrected.case_id))
            })?;
        lock_directory(transaction, false).await?;
        match self.versions.in_effect(transaction).await {
            Ok(directory) => Ok((current, directory)),
            Err(VersionsError::Database(error)) => Err(error.into()),
            Err(damaged) => Err(Failure::Transient(damaged.to_string())),
        }
    }

    fn decide(
        &self,
        (current, directory): Self::State,
        _now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, Failure> {
        let corrected = &self.corrected;
        if corrected.revision <= current.correction_revision {
            return Ok(Decided::quietly(None));
        }
        let mut next = decision::Model {
            territory_code: corrected.territory_code.clone(),
            matter_category: corrected.matter_category.clone(),
            correction_revision: corrected.revision,
            ..current
        };
        next.review_reason = review_reason(&next, &corrected.fields, &directory);
        Ok(Decided::quietly(Some(next)))
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        next: &Self::Outcome,
    ) -> Result<(), Failure> {
        let Some(next) = next else {
            return Ok(());
        };
        next.clone()
            .into_active_model()
            .reset_all()
            .update(transaction)
            .await?;
        if let Some(why) = &next.review_reason {
            tracing::info!(case = %next.case_number, reason = %why, "corrected registration: on the triage list again");
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

    #[test]
    fn a_category_the_rules_send_elsewhere_asks_a_clerk_to_look_again() {
        let fields = ["matter_category".to_owned()];
        let why = review_reason(
            &forwarded("housing", "category:land-acquisition/territory"),
            &fields,
            &demo(),
        )
        .expect("a review");
        assert!(
            why.contains("zhujian") && why.contains("not zhaocun"),
            "{why}"
        );
    }

    #[test]
    fn a_correction_the_rules_decide_the_same_way_asks_nothing() {
        let fields = ["territory_code".to_owned()];
        let case = decision::Model {
            territory_code: "zhaocun-tiefo".into(),
            ..forwarded("land-acquisition", "category:land-acquisition/territory")
        };
        assert_eq!(review_reason(&case, &fields, &demo()), None);
    }

    #[test]
    fn a_desks_own_case_stays_with_the_desk() {
        // 首接首办: 赵村镇 registered it at its own desk; a housing matter stays there too.
        let fields = ["matter_category".to_owned()];
        let case = forwarded("housing", "first-contact");
        assert_eq!(review_reason(&case, &fields, &demo()), None);
    }

    #[test]
    fn a_held_case_is_on_the_list_already() {
        let fields = ["matter_category".to_owned()];
        let case = decision::Model {
            disposition: Disposition::Triage.code().into(),
            unit_code: "xfj".into(),
            ..forwarded("housing", "unknown-category")
        };
        assert_eq!(review_reason(&case, &fields, &demo()), None);
    }
}
