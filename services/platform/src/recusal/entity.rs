//! One declared interest: whose, in which case or unit; withdrawn or not. The reason is
//! kept only where it was recorded (supervision).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recusal")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub recusal_id: Uuid,
    /// The staff member's account (a token's `sub`).
    pub subject: String,
    pub case_id: Option<Uuid>,
    pub unit_code: Option<String>,
    pub reason: String,
    pub declared_by: String,
    pub declared_at: TimeDateTimeWithTimeZone,
    pub withdrawn_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
