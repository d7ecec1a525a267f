//! A diverted case (导入法定途径) is no unit's case and no forwarded one: the record says so.
//! Filled in by the fold's version 2, which folds every case again at start.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseRecord {
    Table,
    Diverted,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CaseRecord::Table)
                    .add_column(
                        ColumnDef::new(CaseRecord::Diverted)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }
}
