//! Where each case went and why. Enum columns hold the domain codes (`forward`, `appeal`;
//! `unclassified` for a track not known yet), the same spelling in every service.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routing_decision")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    pub case_number: String,
    pub unit_code: String,
    /// `/top/.../unit/`: who may see the case (see `xinfang_platform::auth`).
    pub unit_path: String,
    pub disposition: String,
    pub track: String,
    pub rule: String,
    pub reason: String,
    pub directory_version: String,
    pub territory_code: String,
    pub matter_category: String,
    pub received_at: TimeDateTimeWithTimeZone,
    pub routed_at: TimeDateTimeWithTimeZone,
    /// 1 for the first decision, one more for each re-routing.
    pub revision: i32,
    /// `rules`, or the clerk's account.
    pub decided_by: String,
    /// For a diversion: the written guidance notice.
    pub guidance_notice: String,
    /// For an assignment: the day the result is due.
    pub assignment_deadline: Option<TimeDate>,
    /// The accused unit: a clerk routing by hand never sends the case there (Art 30).
    pub accused_unit_code: Option<String>,
    /// Channel and source level codes, and anonymity, as registered: what the event carries.
    pub channel: String,
    pub source_level: String,
    pub anonymous: bool,
    /// A higher bureau's deadline, if it set one.
    pub upstream_deadline: Option<TimeDate>,
    /// The unit the previous revision sent the case to, if any.
    pub previous_unit_code: Option<String>,
    /// Re-routed because the bureau upheld the previous unit's objection: the previous
    /// routing was wrong.
    pub after_objection: bool,
    /// The co-handling units (协办), space-separated; empty when none.
    pub co_handling_units: String,
    /// The correction each of `territory_code` and `matter_category` comes from (0: as
    /// registered, or as a clerk classified it): an older correction arriving late is not
    /// taken.
    pub territory_revision: i32,
    pub category_revision: i32,
    /// A routed case whose corrected registration the rules would now send elsewhere: why a
    /// clerk should look again. On the triage list while set.
    pub review_reason: Option<String>,
}

impl Model {
    /// The co-handling units, in the order the clerk named them.
    pub fn co_handling(&self) -> Vec<String> {
        self.co_handling_units
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
