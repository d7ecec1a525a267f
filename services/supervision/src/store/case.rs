//! A case as supervision follows it: from registration, where it was routed, its stage.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supervised_case")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    pub case_number: String,
    pub received_at: TimeDateTimeWithTimeZone,
    pub anonymous: bool,
    /// The petitioner gave no postal address: no written notice is owed.
    pub address_unknown: bool,
    /// Empty until routed.
    pub unit_code: String,
    /// `/top/…/unit/` (see `auth::stored_unit_path`); empty until routed.
    pub unit_path: String,
    /// The unit's kind code (`discipline-commission` …); empty until routed.
    pub unit_kind: String,
    /// The disposition code; empty until routed.
    pub disposition: String,
    pub track: String,
    pub routed_at: Option<TimeDateTimeWithTimeZone>,
    pub opened_at: TimeDateTimeWithTimeZone,
    /// The stage's code and its days (see `stage_record`).
    pub stage: String,
    pub stage_on: Option<TimeDate>,
    pub stage_since: Option<TimeDate>,
    pub extended_by: Option<i32>,
    pub hearing_since: Option<TimeDate>,
    /// The petitioner's latest evaluation's code; empty before one.
    pub evaluation: String,
    /// A dissatisfied petitioner: the supervisor follows up.
    pub follow_up: bool,
    /// The routing decision's revision the case follows; 0 before routing decided.
    pub routing_revision: i32,
    pub updated_at: TimeDateTimeWithTimeZone,
    /// For a petition linked into another case of the same matter: that case's number.
    pub linked_into_case_number: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::clock::Entity")]
    Clock,
}

impl Related<super::clock::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Clock.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
