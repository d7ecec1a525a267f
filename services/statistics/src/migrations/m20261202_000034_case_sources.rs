//! One case, many upstreams: every source a case came by, one row each (a case sent down by
//! the national and the provincial bureau counts once under each), and, on a petition
//! linked into another case, that case: it is no case of its own in the figures. And each
//! case's territory and matter category, as registered or as last corrected. SQLite adds
//! one column per statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseFact {
    Table,
    LinkedToCaseId,
    TerritoryCode,
    MatterCategory,
    CorrectionRevision,
}

#[derive(DeriveIden)]
enum CaseSource {
    Table,
    CaseId,
    SourceLevel,
    UpstreamReference,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(CaseFact::LinkedToCaseId)
                .uuid()
                .null()
                .to_owned(),
            ColumnDef::new(CaseFact::TerritoryCode)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(CaseFact::MatterCategory)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(CaseFact::CorrectionRevision)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseFact::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CaseSource::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(CaseSource::CaseId).uuid().not_null())
                    .col(ColumnDef::new(CaseSource::SourceLevel).string().not_null())
                    .col(
                        ColumnDef::new(CaseSource::UpstreamReference)
                            .string()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(CaseSource::CaseId)
                            .col(CaseSource::SourceLevel)
                            .col(CaseSource::UpstreamReference),
                    )
                    .to_owned(),
            )
            .await?;
        // Every case registered so far came by its one source.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO case_source (case_id, source_level, upstream_reference) \
                 SELECT case_id, source_level, '' FROM case_fact WHERE source_level IS NOT NULL",
            )
            .await?;
        Ok(())
    }
}
