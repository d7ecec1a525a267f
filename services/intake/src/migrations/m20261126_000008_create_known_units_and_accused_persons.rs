//! The directory's unit codes as routing published them, and the person an accusation
//! names.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KnownUnit {
    Table,
    Code,
    Name,
    DirectoryVersion,
    PublishedAt,
}

#[derive(DeriveIden)]
enum AccusedPerson {
    Table,
    CaseId,
    Name,
    Position,
    UnitName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KnownUnit::Table)
                    .col(
                        ColumnDef::new(KnownUnit::Code)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(KnownUnit::Name).string().not_null())
                    .col(
                        ColumnDef::new(KnownUnit::DirectoryVersion)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(KnownUnit::PublishedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccusedPerson::Table)
                    .col(
                        ColumnDef::new(AccusedPerson::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AccusedPerson::Name).string().not_null())
                    .col(ColumnDef::new(AccusedPerson::Position).string())
                    .col(ColumnDef::new(AccusedPerson::UnitName).string())
                    .to_owned(),
            )
            .await
    }
}
