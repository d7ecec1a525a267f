//! The person an accusation names. Personal data, like the petitioner: kept here alone,
//! never on an event, never in a log, sealed at rest (`sealed_identity`).

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accused_person")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    /// Plaintext from before sealing; empty once sealed.
    #[sea_orm(column_name = "name")]
    pub plaintext_name: String,
    #[sea_orm(column_name = "position")]
    pub plaintext_position: Option<String>,
    #[sea_orm(column_name = "unit_name")]
    pub plaintext_unit_name: Option<String>,
    pub sealed: Option<Vec<u8>>,
    pub key_version: Option<i32>,
}

/// Never print who is accused, not even in a debug log.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccusedPerson({})", self.case_id)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The accused persons of these cases, by case.
pub async fn of_cases<C: ConnectionTrait>(
    db: &C,
    cases: impl IntoIterator<Item = Uuid>,
) -> Result<std::collections::HashMap<Uuid, Model>, DbErr> {
    let cases: Vec<Uuid> = cases.into_iter().collect();
    if cases.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    Ok(Entity::find()
        .filter(Column::CaseId.is_in(cases))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.case_id, row))
        .collect())
}
