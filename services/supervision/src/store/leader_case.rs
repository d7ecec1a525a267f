//! A case a leader owns (领导包案).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "leader_case")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    pub leader: String,
    /// `province`, `prefecture`, `city`, `town`.
    pub level: String,
    pub assigned_by: String,
    pub plan: String,
    pub assigned_on: TimeDate,
    /// `resolved`, `closed-by-procedure`; empty while open.
    pub outcome: String,
    pub outcome_on: Option<TimeDate>,
    pub outcome_note: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::case::Entity",
        from = "Column::CaseId",
        to = "super::case::Column::CaseId"
    )]
    Case,
}

impl Related<super::case::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Case.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
