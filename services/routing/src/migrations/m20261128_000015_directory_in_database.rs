//! The directory moves into the database: each revision of the units (the first loaded
//! from the file), and each version of the category table with the time it takes effect.
//! An earlier routing revision keeps the versions and classification it was decided by,
//! and whether it was superseded as a wrong routing (the unit's objection upheld); a
//! decision names the unit it moved the case from.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UnitDirectory {
    Table,
    Revision,
    Document,
    Change,
    ChangedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum CategoryTable {
    Table,
    Version,
    Entries,
    EffectiveAt,
    PublishedBy,
    PublishedAt,
}

#[derive(DeriveIden)]
enum RoutingRevision {
    Table,
    DirectoryVersion,
    MatterCategory,
    Track,
    WrongRouting,
}

#[derive(DeriveIden)]
enum RoutingDecision {
    Table,
    PreviousUnitCode,
    AfterObjection,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UnitDirectory::Table)
                    .col(
                        ColumnDef::new(UnitDirectory::Revision)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(UnitDirectory::Document).text().not_null())
                    .col(ColumnDef::new(UnitDirectory::Change).text().not_null())
                    .col(ColumnDef::new(UnitDirectory::ChangedBy).string().not_null())
                    .col(
                        ColumnDef::new(UnitDirectory::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CategoryTable::Table)
                    .col(
                        ColumnDef::new(CategoryTable::Version)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CategoryTable::Entries).text().not_null())
                    .col(
                        ColumnDef::new(CategoryTable::EffectiveAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CategoryTable::PublishedBy)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CategoryTable::PublishedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("category_table_by_effective_at")
                    .table(CategoryTable::Table)
                    .col(CategoryTable::EffectiveAt)
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters a table a column at a time.
        for column in [
            RoutingRevision::DirectoryVersion,
            RoutingRevision::MatterCategory,
            RoutingRevision::Track,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RoutingRevision::Table)
                        .add_column(ColumnDef::new(column).string().not_null().default(""))
                        .to_owned(),
                )
                .await?;
        }
        let mut columns = vec![
            (
                RoutingRevision::Table.into_iden(),
                ColumnDef::new(RoutingRevision::WrongRouting)
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
            ),
            (
                RoutingDecision::Table.into_iden(),
                ColumnDef::new(RoutingDecision::PreviousUnitCode)
                    .string()
                    .null()
                    .to_owned(),
            ),
        ];
        columns.push((
            RoutingDecision::Table.into_iden(),
            ColumnDef::new(RoutingDecision::AfterObjection)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ));
        for (table, mut column) in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
