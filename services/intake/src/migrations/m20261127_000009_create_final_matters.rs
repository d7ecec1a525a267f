//! Matters made final by a re-review (Art 36): the same facts and reasons are not accepted
//! again. Kept by the petitioner's ID number (hashed: no second copy of it), the matter
//! category and the place.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FinalMatter {
    Table,
    CaseId,
    CaseNumber,
    IdCardHash,
    MatterCategory,
    TerritoryCode,
    ServedOn,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FinalMatter::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(FinalMatter::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FinalMatter::CaseNumber).string().not_null())
                    .col(ColumnDef::new(FinalMatter::IdCardHash).binary())
                    .col(
                        ColumnDef::new(FinalMatter::MatterCategory)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinalMatter::TerritoryCode)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(FinalMatter::ServedOn).date().not_null())
                    .col(
                        ColumnDef::new(FinalMatter::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("final_matter_by_petitioner")
                    .table(FinalMatter::Table)
                    .col(FinalMatter::IdCardHash)
                    .col(FinalMatter::MatterCategory)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
