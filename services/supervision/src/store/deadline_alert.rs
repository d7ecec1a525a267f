//! A timer that fired: one per deadline, level and due day.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deadline_alert")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i32,
    /// `approaching`, `overdue`, `supervised`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub level: String,
    /// A due day that moves (an extension) arms the timers again.
    #[sea_orm(primary_key, auto_increment = false)]
    pub due_day: TimeDate,
    pub fired_at: TimeDateTimeWithTimeZone,
    pub letter_number: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
