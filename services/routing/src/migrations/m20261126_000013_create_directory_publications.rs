//! The directories routing has announced, by digest.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DirectoryPublication {
    Table,
    Fingerprint,
    Version,
    PublishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DirectoryPublication::Table)
                    .col(
                        ColumnDef::new(DirectoryPublication::Fingerprint)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DirectoryPublication::Version)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DirectoryPublication::PublishedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
