//! Corrections of registrations: who corrected what, when and why, each field before and
//! after; the request id makes a retry safe.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PetitionCorrection {
    Table,
    RequestId,
    Fingerprint,
    CaseId,
    Revision,
    CorrectedAt,
    CorrectedBy,
    Reason,
    Fields,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PetitionCorrection::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(PetitionCorrection::RequestId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PetitionCorrection::Fingerprint)
                            .binary()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PetitionCorrection::CaseId).uuid().not_null())
                    .col(
                        ColumnDef::new(PetitionCorrection::Revision)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PetitionCorrection::CorrectedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PetitionCorrection::CorrectedBy)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PetitionCorrection::Reason).text().not_null())
                    .col(ColumnDef::new(PetitionCorrection::Fields).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("petition_correction_by_case")
                    .table(PetitionCorrection::Table)
                    .col(PetitionCorrection::CaseId)
                    .col(PetitionCorrection::Revision)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
