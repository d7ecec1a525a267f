//! A decision follows the corrections of its registration: the newest of each fact it knows
//! (corrections may arrive out of order), and why a
//! clerk should look again when the rules would now send the case elsewhere; a correction
//! that comes before routing decided waits for the decision. SQLite adds one column per
//! statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RoutingDecision {
    Table,
    TerritoryRevision,
    CategoryRevision,
    ReviewReason,
}

#[derive(DeriveIden)]
enum PendingCorrection {
    Table,
    CaseId,
    TerritoryRevision,
    TerritoryCode,
    CategoryRevision,
    MatterCategory,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(RoutingDecision::TerritoryRevision)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(RoutingDecision::CategoryRevision)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(RoutingDecision::ReviewReason)
                .text()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RoutingDecision::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PendingCorrection::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(PendingCorrection::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PendingCorrection::TerritoryRevision)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PendingCorrection::TerritoryCode)
                            .string()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(PendingCorrection::CategoryRevision)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PendingCorrection::MatterCategory)
                            .string()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
