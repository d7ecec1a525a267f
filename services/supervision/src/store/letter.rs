//! A numbered letter about a case: the bureau's own, or one a higher bureau sent.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "letter")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: String,
    /// `assignment`, `reminder`, `warning`, `supervision`.
    pub kind: String,
    pub year: i32,
    /// Its place in the year's sequence of its kind; none for a higher bureau's letter.
    pub serial: Option<i32>,
    pub case_id: Uuid,
    pub recipient_unit: String,
    pub issuer: String,
    pub text: String,
    pub issued_at: TimeDateTimeWithTimeZone,
    pub issued_by: String,
    /// The IssueLetter call that issued it by hand, for its retries.
    pub request_id: Option<Uuid>,
    pub reply_due: Option<TimeDate>,
    pub replied_on: Option<TimeDate>,
    pub reply: String,
    pub from_upstream: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
