//! An attachment a petition refers to: its name, type, size and SHA-256 digest.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "petition_attachment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    /// Its place in the order handed in, from 0.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub name: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
