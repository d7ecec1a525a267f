//! A case follows the newest revision of its routing decision: the revision it last
//! followed is kept, so an older one arriving late changes nothing. Cases routed before
//! revisions existed followed the first.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SupervisedCase {
    Table,
    RoutingRevision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SupervisedCase::Table)
                    .add_column(
                        ColumnDef::new(SupervisedCase::RoutingRevision)
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
                "UPDATE supervised_case SET routing_revision = 1 WHERE routed_at IS NOT NULL",
            )
            .await?;
        Ok(())
    }
}
