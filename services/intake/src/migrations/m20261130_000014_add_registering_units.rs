//! The unit at whose own desk a petition was registered (首接首办).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Petition {
    Table,
    RegisteredAtUnit,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Petition::Table)
                    .add_column(ColumnDef::new(Petition::RegisteredAtUnit).string().null())
                    .to_owned(),
            )
            .await
    }
}
