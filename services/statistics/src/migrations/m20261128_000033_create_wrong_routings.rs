//! Wrong routings: a case re-routed because the bureau upheld its unit's objection counts
//! one against the unit it left.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WrongRouting {
    Table,
    CaseId,
    Revision,
    UnitCode,
    CorrectedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WrongRouting::Table)
                    .col(ColumnDef::new(WrongRouting::CaseId).uuid().not_null())
                    .col(ColumnDef::new(WrongRouting::Revision).integer().not_null())
                    .col(ColumnDef::new(WrongRouting::UnitCode).string().not_null())
                    .col(
                        ColumnDef::new(WrongRouting::CorrectedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(WrongRouting::CaseId)
                            .col(WrongRouting::Revision),
                    )
                    .to_owned(),
            )
            .await
    }
}
