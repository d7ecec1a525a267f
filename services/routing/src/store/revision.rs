//! An earlier revision of a case's routing decision: where it went before, and who decided.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routing_revision")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub revision: i32,
    pub unit_code: String,
    pub disposition: String,
    pub rule: String,
    pub reason: String,
    pub decided_by: String,
    pub routed_at: TimeDateTimeWithTimeZone,
    pub directory_version: String,
    pub matter_category: String,
    pub track: String,
    /// Superseded because the bureau upheld the unit's objection: a wrong routing.
    pub wrong_routing: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
