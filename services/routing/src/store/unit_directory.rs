//! A revision of the unit directory: the whole document (JSON), what changed and who
//! changed it. Revision 1 is the file loaded at the first start.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_directory")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub revision: i32,
    pub document: String,
    pub change: String,
    pub changed_by: String,
    pub recorded_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
