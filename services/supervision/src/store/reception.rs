//! A reception session (接访 or 下访) as it happened.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reception")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Uuid,
    pub leader_id: String,
    /// The leader's level and whether a principal leader when the session was held: the
    /// figures count by these, whatever the roster says later.
    pub leader_level: String,
    pub by_principal_leader: bool,
    /// `duty`, `appointment` or `visit-down`.
    pub kind: String,
    pub held_at: TimeDateTimeWithTimeZone,
    pub place: String,
    pub people_received: i32,
    /// The petitions taken, as a JSON array of case ids.
    pub case_ids: String,
    pub recorded_by: String,
    pub recorded_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
