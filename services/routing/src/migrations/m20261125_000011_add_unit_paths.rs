//! Who may see a case: the responsible unit's path in the organisation tree
//! (`/top/.../unit/`), kept with the decision so a unit handler's reads can be scoped.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RoutingDecision {
    Table,
    UnitPath,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RoutingDecision::Table)
                    .add_column(
                        ColumnDef::new(RoutingDecision::UnitPath)
                            .string()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await
    }
}
