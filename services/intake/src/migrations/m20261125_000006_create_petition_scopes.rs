//! Where each petition was routed, for deciding who may read it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PetitionScope {
    Table,
    CaseId,
    UnitCode,
    UnitPath,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PetitionScope::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(PetitionScope::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PetitionScope::UnitCode).string().not_null())
                    .col(ColumnDef::new(PetitionScope::UnitPath).string().not_null())
                    .to_owned(),
            )
            .await
    }
}
