//! Personal data sealed at rest (see `sealed_identity`): a sealed column beside the old
//! plaintext ones, which the background re-sealer empties row by row; keyed hashes to find
//! a petitioner by ID number or phone; the query code's keyed hash; and which Art 36 hashes
//! are keyed already.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Petitioner {
    Table,
    Sealed,
    KeyVersion,
    IdCardLookup,
    PhoneLookup,
}

#[derive(DeriveIden)]
enum AccusedPerson {
    Table,
    Sealed,
    KeyVersion,
}

#[derive(DeriveIden)]
enum Petition {
    Table,
    QueryCodeHash,
}

#[derive(DeriveIden)]
enum FinalMatter {
    Table,
    HashKeyed,
}

/// SQLite takes one column per ALTER TABLE.
async fn add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(
            manager,
            Petitioner::Table,
            ColumnDef::new(Petitioner::Sealed)
                .binary()
                .null()
                .to_owned(),
        )
        .await?;
        add(
            manager,
            Petitioner::Table,
            ColumnDef::new(Petitioner::KeyVersion)
                .integer()
                .null()
                .to_owned(),
        )
        .await?;
        add(
            manager,
            Petitioner::Table,
            ColumnDef::new(Petitioner::IdCardLookup)
                .binary()
                .null()
                .to_owned(),
        )
        .await?;
        add(
            manager,
            Petitioner::Table,
            ColumnDef::new(Petitioner::PhoneLookup)
                .binary()
                .null()
                .to_owned(),
        )
        .await?;
        for (name, column) in [
            ("petitioner_by_id_card_lookup", Petitioner::IdCardLookup),
            ("petitioner_by_phone_lookup", Petitioner::PhoneLookup),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Petitioner::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        add(
            manager,
            AccusedPerson::Table,
            ColumnDef::new(AccusedPerson::Sealed)
                .binary()
                .null()
                .to_owned(),
        )
        .await?;
        add(
            manager,
            AccusedPerson::Table,
            ColumnDef::new(AccusedPerson::KeyVersion)
                .integer()
                .null()
                .to_owned(),
        )
        .await?;
        add(
            manager,
            Petition::Table,
            ColumnDef::new(Petition::QueryCodeHash)
                .binary()
                .null()
                .to_owned(),
        )
        .await?;
        add(
            manager,
            FinalMatter::Table,
            ColumnDef::new(FinalMatter::HashKeyed)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        )
        .await
    }
}
