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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
