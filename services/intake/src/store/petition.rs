//! A petition as registered. The petitioner's identity lives apart, in `petitioner`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "petition")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    #[sea_orm(unique)]
    pub case_number: String,
    /// The caller's idempotency key, and a hash of what it asked, to tell a retry from a
    /// different petition sent under a used key.
    #[sea_orm(unique)]
    pub request_id: Uuid,
    pub request_fingerprint: Vec<u8>,
    pub channel: String,
    pub source_level: String,
    pub upstream_reference: Option<String>,
    pub upstream_disposition: Option<String>,
    pub upstream_deadline: Option<TimeDate>,
    pub received_at: TimeDateTimeWithTimeZone,
    pub registered_at: TimeDateTimeWithTimeZone,
    pub anonymous: bool,
    pub people_count: i32,
    pub collective: bool,
    pub territory_code: String,
    pub matter_category: String,
    pub title: String,
    pub content: String,
    pub accused_unit_code: Option<String>,
    /// The keyed hash of the petitioner's query code (never the code).
    pub query_code_hash: Option<Vec<u8>>,
    /// The first case of the matter this petition repeats (重复信访).
    pub repeat_of_case_id: Option<Uuid>,
    pub repeat_of_case_number: Option<String>,
    /// A matter in progress here, brought again from a higher level (越级, Art 19).
    pub skip_level: bool,
    /// 初信初访: no earlier petition of this petitioner on this matter (false for rows from
    /// before it was recorded).
    pub first_time: bool,
    /// The first case of the collective matter this petition joins.
    pub collective_matter_case_id: Option<Uuid>,
    pub collective_matter_case_number: Option<String>,
    /// The unit at whose own desk it was registered (首接首办); none for the bureau's.
    pub registered_at_unit: Option<String>,
    /// For a visit of a collective matter: which batch (批次) of the matter, 1 for the first.
    pub visit_batch: Option<i32>,
    /// How many representatives the visiting group chose (sealed with the petitioner).
    pub representative_count: i32,
    /// A visit above the city a higher bureau reported (`beijing`, `province`, `prefecture`).
    pub escalated_to: Option<String>,
    /// For a petition a higher bureau sent down: the case that looks like the same matter,
    /// and why (`same-upstream-reference`, `same-petitioner-similar-content`).
    pub proposed_case_id: Option<Uuid>,
    pub proposed_case_number: Option<String>,
    pub proposal_reason: Option<String>,
    /// The case a clerk linked it into: it is no case of its own any more.
    pub linked_to_case_id: Option<Uuid>,
    pub linked_to_case_number: Option<String>,
    pub linked_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_one = "super::petitioner::Entity")]
    Petitioner,
}

impl Related<super::petitioner::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Petitioner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
