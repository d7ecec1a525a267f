//! Who may see a case: the responsible unit's path in the organisation tree
//! (`/top/.../unit/`), kept with the timeline so a unit handler's reads can be scoped.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseTimeline {
    Table,
    UnitPath,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CaseTimeline::Table)
                    .add_column(
                        ColumnDef::new(CaseTimeline::UnitPath)
                            .string()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await
    }
}
