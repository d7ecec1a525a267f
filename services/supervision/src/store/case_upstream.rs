//! A higher bureau that sent a case's matter down: the case answers to each (Art 22).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_upstream")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    /// The level's code (`national`, `provincial`, `prefecture`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub source_level: String,
    /// The higher bureau's own case number.
    #[sea_orm(primary_key, auto_increment = false)]
    pub upstream_reference: String,
    /// `forwarded` or `assigned`.
    pub disposition: String,
    /// The bureau's own deadline, if it set one.
    pub due_day: Option<TimeDate>,
    /// The petition that brought it: the case itself, or one linked into it.
    pub via_case_id: Uuid,
    pub via_case_number: String,
    pub recorded_at: TimeDateTimeWithTimeZone,
    /// When the bureau reported the result back to it.
    pub reported_on: Option<TimeDate>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
