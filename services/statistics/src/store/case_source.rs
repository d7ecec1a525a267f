//! A source a case came by: registered here, or a higher bureau's reference. A case sent
//! down by several bureaus has a row for each.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_source")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    /// The level's code (`local`, `national` …), as `case_fact` keeps it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub source_level: String,
    /// The higher bureau's reference; empty for a petition registered here.
    #[sea_orm(primary_key, auto_increment = false)]
    pub upstream_reference: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
