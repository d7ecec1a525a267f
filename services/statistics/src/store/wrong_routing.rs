//! A routing the bureau found wrong (the unit's objection upheld): the unit it sent the
//! case to, and the revision that corrected it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wrong_routing")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    /// The revision that corrected it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub revision: i32,
    /// The unit the wrong routing sent the case to.
    pub unit_code: String,
    pub corrected_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
