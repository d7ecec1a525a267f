//! One legal clock of a case: which, from when, until when.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deadline")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    /// Which clock, as its domain code, e.g. `forward`, `notice-of-receipt`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    pub start_day: TimeDate,
    pub due_day: TimeDate,
    pub provisional: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::timeline::Entity",
        from = "Column::CaseId",
        to = "super::timeline::Column::CaseId"
    )]
    Timeline,
}

impl Related<super::timeline::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Timeline.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
