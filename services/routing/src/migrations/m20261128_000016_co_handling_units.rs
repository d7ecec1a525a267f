//! A decision names its co-handling units (协办) beside the lead unit: their codes,
//! space-separated; its `unit_path` covers them too, for who may see the case.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RoutingDecision {
    Table,
    CoHandlingUnits,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RoutingDecision::Table)
                    .add_column(
                        ColumnDef::new(RoutingDecision::CoHandlingUnits)
                            .string()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await
    }
}
