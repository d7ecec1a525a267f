//! What statistics knows of one case. Enum columns hold the protobuf enum names.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_fact")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    pub case_number: String,
    /// From the registered event; empty until it arrives.
    pub channel: Option<String>,
    pub source_level: Option<String>,
    pub registered_at: Option<TimeDateTimeWithTimeZone>,
    /// From the routed event.
    pub unit_code: Option<String>,
    pub routed_at: Option<TimeDateTimeWithTimeZone>,
    /// From the timeline-opened event.
    pub supervised_at: Option<TimeDateTimeWithTimeZone>,
    /// The routing decision's revision `unit_code` comes from; 0 before one arrived.
    pub routing_revision: i32,
    /// For a petition linked into another case of the same matter: that case. Not a case
    /// of its own in the figures.
    pub linked_to_case_id: Option<Uuid>,
    /// Where the matter arose and what it is about, as registered or as last corrected.
    pub territory_code: Option<String>,
    pub matter_category: Option<String>,
    /// The correction they come from; 0 for the registration's.
    pub correction_revision: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
