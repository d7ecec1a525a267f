//! A diverted case (导入法定途径) is no unit's case and no forwarded one, and a case in its
//! deadline is accepted or not whether or not a notice was owed: the record says both.
//! Filled in by the fold's version 2, which folds every case again at start. SQLite adds one
//! column per statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseRecord {
    Table,
    Diverted,
    AcceptedStepOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(CaseRecord::Diverted)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(CaseRecord::AcceptedStepOn)
                .date()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseRecord::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
