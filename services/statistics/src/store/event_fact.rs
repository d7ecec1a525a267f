//! Every event statistics counts, as it came: append-only, keyed by its event id.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_fact")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: Uuid,
    /// The protobuf message's full name (`ce-type`).
    pub event_type: String,
    /// The case it is about; none for the bureau's own work (receptions, the watch list).
    pub case_id: Option<Uuid>,
    /// Another case whose record it changes (a linked petition, the case a repeat repeats).
    pub related_case_id: Option<Uuid>,
    /// When it happened (the event's `ce-time`): what an as-of figure cuts at.
    pub occurred_at: TimeDateTimeWithTimeZone,
    pub payload: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
