//! A decision follows the corrections of its registration: the newest it knows, and why a
//! clerk should look again when the rules would now send the case elsewhere. SQLite adds
//! one column per statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RoutingDecision {
    Table,
    CorrectionRevision,
    ReviewReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(RoutingDecision::CorrectionRevision)
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
        Ok(())
    }
}
