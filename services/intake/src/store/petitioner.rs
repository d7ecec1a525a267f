//! The petitioner's identity: personal data, stored by intake alone and carried by no event,
//! sealed at rest (`sealed_identity`). The plaintext columns are from before sealing: the
//! re-sealer empties them.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "petitioner")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    pub kind: String,
    /// Plaintext from before sealing; empty once sealed.
    #[sea_orm(column_name = "name")]
    pub plaintext_name: String,
    #[sea_orm(column_name = "id_card_number")]
    pub plaintext_id_card_number: Option<String>,
    #[sea_orm(column_name = "phone")]
    pub plaintext_phone: Option<String>,
    #[sea_orm(column_name = "address")]
    pub plaintext_address: Option<String>,
    /// The identity, sealed under key `key_version` and bound to this case.
    pub sealed: Option<Vec<u8>>,
    pub key_version: Option<i32>,
    /// Keyed hashes of the normalised ID number and phone, to find the petitioner's cases.
    pub id_card_lookup: Option<Vec<u8>>,
    pub phone_lookup: Option<Vec<u8>>,
}

/// Personal data stays out of logs even by accident.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Petitioner")
            .field("case_id", &self.case_id)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::petition::Entity",
        from = "Column::CaseId",
        to = "super::petition::Column::CaseId"
    )]
    Petition,
}

impl Related<super::petition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Petition.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
