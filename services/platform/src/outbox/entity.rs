//! The outbox table, as sea-orm sees it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    /// The commit order, which is also the publish order.
    #[sea_orm(primary_key)]
    pub position: i64,
    #[sea_orm(unique)]
    pub event_id: Uuid,
    pub subject: String,
    pub event_type: String,
    pub case_id: Uuid,
    pub occurred_at: TimeDateTimeWithTimeZone,
    /// When the row was written; the sweep leaves fresh rows to the relay's fast path.
    pub staged_at: TimeDateTimeWithTimeZone,
    pub payload: Vec<u8>,
    pub traceparent: Option<String>,
    /// Set once the broker acknowledged the event; the row is kept for redrive.
    pub published_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
