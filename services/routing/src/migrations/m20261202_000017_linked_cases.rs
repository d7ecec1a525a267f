//! Petitions a clerk linked into another case of the same matter (one case, many
//! upstreams): never routed, and off the triage list.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LinkedCase {
    Table,
    CaseId,
    IntoCaseId,
    IntoCaseNumber,
    LinkedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LinkedCase::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(LinkedCase::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LinkedCase::IntoCaseId).uuid().not_null())
                    .col(
                        ColumnDef::new(LinkedCase::IntoCaseNumber)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LinkedCase::LinkedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
