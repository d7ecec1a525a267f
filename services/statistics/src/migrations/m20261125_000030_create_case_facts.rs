//! One row of facts per case.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseFact {
    Table,
    CaseId,
    CaseNumber,
    Channel,
    SourceLevel,
    RegisteredAt,
    UnitCode,
    RoutedAt,
    SupervisedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CaseFact::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CaseFact::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CaseFact::CaseNumber).string().not_null())
                    .col(ColumnDef::new(CaseFact::Channel).string().null())
                    .col(ColumnDef::new(CaseFact::SourceLevel).string().null())
                    .col(
                        ColumnDef::new(CaseFact::RegisteredAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(CaseFact::UnitCode).string().null())
                    .col(
                        ColumnDef::new(CaseFact::RoutedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CaseFact::SupervisedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
