//! Declared interests (回避, Art 28): who may not handle or read a case, or a unit's cases.
//! Supervision records them; intake and routing keep a copy from its events.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Recusal {
    Table,
    #[sea_orm(iden = "recusal_id")]
    Id,
    Subject,
    CaseId,
    UnitCode,
    Reason,
    DeclaredBy,
    DeclaredAt,
    WithdrawnAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Recusal::Table)
                    .col(ColumnDef::new(Recusal::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Recusal::Subject).string().not_null())
                    .col(ColumnDef::new(Recusal::CaseId).uuid().null())
                    .col(ColumnDef::new(Recusal::UnitCode).string().null())
                    .col(
                        ColumnDef::new(Recusal::Reason)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(ColumnDef::new(Recusal::DeclaredBy).string().not_null())
                    .col(
                        ColumnDef::new(Recusal::DeclaredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Recusal::WithdrawnAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recusal_by_subject")
                    .table(Recusal::Table)
                    .col(Recusal::Subject)
                    .to_owned(),
            )
            .await
    }
}
