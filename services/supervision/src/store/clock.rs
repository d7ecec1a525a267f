//! One legal clock of a case, as the deadline ledger records it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_clock")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    /// Its place on the case's ledger, in the order the clocks opened.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i32,
    /// The deadline kind's code (`handling`, `upstream` …).
    pub kind: String,
    pub reference: String,
    pub basis: String,
    pub start_event: String,
    pub start_day: TimeDate,
    /// `calendar`, `working` or `fixed` (a day someone else set).
    pub span: String,
    pub span_days: i32,
    pub roll_forward: bool,
    pub extended_by: i32,
    pub extension_reason: String,
    pub extension_approved_by: String,
    pub extension_told_on: Option<TimeDate>,
    pub paused_days: i32,
    pub paused_since: Option<TimeDate>,
    pub due_day: TimeDate,
    pub provisional: bool,
    pub calendar_version: String,
    pub met_on: Option<TimeDate>,
    pub closed_on: Option<TimeDate>,
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
