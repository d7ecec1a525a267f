//! A correction of a registration: who, when, why, and each field before and after.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "petition_correction")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: Uuid,
    /// A keyed hash of the correction as asked, to tell a retry from another correction.
    pub fingerprint: Vec<u8>,
    pub case_id: Uuid,
    /// 1 for the case's first correction.
    pub revision: i32,
    pub corrected_at: TimeDateTimeWithTimeZone,
    pub corrected_by: String,
    pub reason: String,
    /// JSON: `[{"field": …, "before": …, "after": …}]`.
    pub fields: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
