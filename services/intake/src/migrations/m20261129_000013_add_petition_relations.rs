//! How a petition relates to earlier ones (`matching`): the case it repeats, whether it is
//! skip-level or first-time, the collective matter it joins; and an index to find earlier
//! petitions of the same place and matter.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Petition {
    Table,
    RepeatOfCaseId,
    RepeatOfCaseNumber,
    SkipLevel,
    FirstTime,
    CollectiveMatterCaseId,
    CollectiveMatterCaseNumber,
    TerritoryCode,
    MatterCategory,
    RegisteredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [
            ColumnDef::new(Petition::RepeatOfCaseId)
                .uuid()
                .null()
                .to_owned(),
            ColumnDef::new(Petition::RepeatOfCaseNumber)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Petition::SkipLevel)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Petition::FirstTime)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Petition::CollectiveMatterCaseId)
                .uuid()
                .null()
                .to_owned(),
            ColumnDef::new(Petition::CollectiveMatterCaseNumber)
                .string()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Petition::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("petition_by_place_matter_time")
                    .table(Petition::Table)
                    .col(Petition::TerritoryCode)
                    .col(Petition::MatterCategory)
                    .col(Petition::RegisteredAt)
                    .to_owned(),
            )
            .await
    }
}
