//! One case, many upstreams: each higher bureau that sent the matter down, one obligation
//! per bureau on the case that carries it; and, on a petition linked into such a case, the
//! case it went into. SQLite adds one column per statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SupervisedCase {
    Table,
    LinkedIntoCaseNumber,
}

#[derive(DeriveIden)]
enum CaseUpstream {
    Table,
    CaseId,
    SourceLevel,
    UpstreamReference,
    Disposition,
    DueDay,
    ViaCaseId,
    ViaCaseNumber,
    RecordedAt,
    ReportedOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SupervisedCase::Table)
                    .add_column(
                        ColumnDef::new(SupervisedCase::LinkedIntoCaseNumber)
                            .string()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseUpstream::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(CaseUpstream::CaseId).uuid().not_null())
                    .col(
                        ColumnDef::new(CaseUpstream::SourceLevel)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CaseUpstream::UpstreamReference)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CaseUpstream::Disposition)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CaseUpstream::DueDay).date().null())
                    .col(ColumnDef::new(CaseUpstream::ViaCaseId).uuid().not_null())
                    .col(
                        ColumnDef::new(CaseUpstream::ViaCaseNumber)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CaseUpstream::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CaseUpstream::ReportedOn).date().null())
                    .primary_key(
                        Index::create()
                            .col(CaseUpstream::CaseId)
                            .col(CaseUpstream::SourceLevel)
                            .col(CaseUpstream::UpstreamReference),
                    )
                    .to_owned(),
            )
            .await
    }
}
