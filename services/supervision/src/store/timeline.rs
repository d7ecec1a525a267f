//! A case as supervision follows it. Enum columns hold the protobuf enum names.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_timeline")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    pub case_number: String,
    pub unit_code: String,
    /// `/top/.../unit/`: who may see the case (see `xinfang_platform::auth`).
    pub unit_path: String,
    pub disposition: String,
    pub track: String,
    pub anonymous: bool,
    pub received_at: TimeDateTimeWithTimeZone,
    pub routed_at: TimeDateTimeWithTimeZone,
    pub opened_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::deadline::Entity")]
    Deadline,
}

impl Related<super::deadline::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deadline.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
