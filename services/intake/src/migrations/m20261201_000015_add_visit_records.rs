//! What a visit adds to a petition: the batch of its collective matter, how many
//! representatives (who they are is sealed with the petitioner), and a visit above the city
//! a higher bureau reported. SQLite adds one column per statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Petition {
    Table,
    CollectiveMatterCaseId,
    RepeatOfCaseId,
    VisitBatch,
    RepresentativeCount,
    EscalatedTo,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(Petition::VisitBatch)
                .integer()
                .null()
                .to_owned(),
            ColumnDef::new(Petition::RepresentativeCount)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Petition::EscalatedTo)
                .string()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Petition::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // A visit's batch counts its matter's visits: found by either link.
        for (name, column) in [
            (
                "petition_by_collective_matter",
                Petition::CollectiveMatterCaseId,
            ),
            ("petition_by_repeated_case", Petition::RepeatOfCaseId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Petition::Table)
                        .col(column)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
