//! A key person or key group on the watch list.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "watch_entry")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Uuid,
    /// `key-person`, `key-group`.
    pub kind: String,
    pub group_name: String,
    /// Intake's petitioner ids, as a JSON array.
    pub petitioner_ids: String,
    /// The cases it concerns, as a JSON array.
    pub case_ids: String,
    pub reason: String,
    pub leader: String,
    pub responsible_unit: String,
    pub added_at: TimeDateTimeWithTimeZone,
    pub added_by: String,
    pub removed_at: Option<TimeDateTimeWithTimeZone>,
    pub removal_reason: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
