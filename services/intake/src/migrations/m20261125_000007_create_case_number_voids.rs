//! Case numbers drawn but not used, each with why: with the petitions, the whole sequence.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseNumberVoid {
    Table,
    RegionCode,
    Year,
    Sequence,
    CaseNumber,
    Reason,
    VoidedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CaseNumberVoid::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CaseNumberVoid::RegionCode)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CaseNumberVoid::Year).integer().not_null())
                    .col(
                        ColumnDef::new(CaseNumberVoid::Sequence)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CaseNumberVoid::CaseNumber)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CaseNumberVoid::Reason).string().not_null())
                    .col(
                        ColumnDef::new(CaseNumberVoid::VoidedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(CaseNumberVoid::RegionCode)
                            .col(CaseNumberVoid::Year)
                            .col(CaseNumberVoid::Sequence),
                    )
                    .to_owned(),
            )
            .await
    }
}
