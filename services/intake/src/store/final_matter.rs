//! A matter made final by re-review: not accepted again (Art 36).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "final_matter")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    pub case_number: String,
    /// The keyed hash of the petitioner's ID card number (`id_card` lookup); none when
    /// the petition had none.
    pub id_card_hash: Option<Vec<u8>>,
    pub matter_category: String,
    pub territory_code: String,
    pub served_on: TimeDate,
    pub recorded_at: TimeDateTimeWithTimeZone,
    /// False for a row from before hashes were keyed (a plain SHA-256), until re-hashed.
    pub hash_keyed: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
