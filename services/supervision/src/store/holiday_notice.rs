//! One year's official holiday notice, as loaded.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holiday_notice")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    /// The notice in holiday-cn's JSON shape (`{"year", "days": [{"name", "date",
    /// "isOffDay"}]}`).
    pub days: String,
    pub source: String,
    pub loaded_at: TimeDateTimeWithTimeZone,
    pub loaded_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
