//! The petitioner's identity: personal data, stored by intake alone and carried by no event.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "petitioner")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    pub kind: String,
    pub name: String,
    pub id_card_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
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
