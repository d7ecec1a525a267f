//! A correction of a registration routing has not decided on yet: the decision takes it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pending_correction")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    /// Each corrected fact with the correction it comes from; `None` (revision 0) for one
    /// not corrected.
    pub territory_revision: i32,
    pub territory_code: Option<String>,
    pub category_revision: i32,
    pub matter_category: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
