//! One recorded action on a case: its history, and what makes a retried command a no-op.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_step")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: Uuid,
    /// A hash of the command as sent, to tell a retry from a different command.
    pub fingerprint: Vec<u8>,
    pub case_id: Uuid,
    pub action: String,
    /// What the command said (reasons, method, the opinion), as JSON.
    pub details: String,
    pub actor: String,
    pub occurred_on: TimeDate,
    pub recorded_at: TimeDateTimeWithTimeZone,
    pub stage_after: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
