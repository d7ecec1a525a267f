//! A case's facts follow the newest revision of its routing decision: a re-routed case is
//! counted under its new unit, and an older decision arriving late changes nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseFact {
    Table,
    RoutingRevision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CaseFact::Table)
                    .add_column(
                        ColumnDef::new(CaseFact::RoutingRevision)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE case_fact SET routing_revision = 1 WHERE routed_at IS NOT NULL",
            )
            .await?;
        Ok(())
    }
}
