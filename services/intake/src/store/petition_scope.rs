//! Which unit a petition was routed to, learnt from routing's events: who may read it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "petition_scope")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    pub unit_code: String,
    /// `/top/.../unit/` (see `xinfang_platform::auth`).
    pub unit_path: String,
    /// The routing decision's revision it follows: an older one arriving late changes
    /// nothing.
    pub revision: i32,
    /// Held at the bureau for a clerk (triage), not with a unit.
    pub held: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
