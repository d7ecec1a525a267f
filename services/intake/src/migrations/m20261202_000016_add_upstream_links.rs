//! One case, many upstreams: the case registration proposes a petition from a higher bureau
//! be linked into, and the case a clerk linked it into; and whether routing holds a case at
//! the bureau (only a held one may be linked). SQLite adds one column per statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Petition {
    Table,
    UpstreamReference,
    ProposedCaseId,
    ProposedCaseNumber,
    ProposalReason,
    LinkedToCaseId,
    LinkedToCaseNumber,
    LinkedAt,
}

#[derive(DeriveIden)]
enum PetitionScope {
    Table,
    Held,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(Petition::ProposedCaseId)
                .uuid()
                .null()
                .to_owned(),
            ColumnDef::new(Petition::ProposedCaseNumber)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Petition::ProposalReason)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Petition::LinkedToCaseId)
                .uuid()
                .null()
                .to_owned(),
            ColumnDef::new(Petition::LinkedToCaseNumber)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Petition::LinkedAt)
                .timestamp_with_time_zone()
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
        // Scopes recorded before this: a case held at the bureau stands at the top of the
        // directory (the bureau itself), a case with a unit under it.
        manager
            .alter_table(
                Table::alter()
                    .table(PetitionScope::Table)
                    .add_column(
                        ColumnDef::new(PetitionScope::Held)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE petition_scope SET held = true WHERE unit_path = '/' || unit_code || '/'",
            )
            .await?;
        // A higher bureau's reference finds the case already carrying it; a case finds the
        // petitions linked into it.
        for (name, column) in [
            (
                "petition_by_upstream_reference",
                Petition::UpstreamReference,
            ),
            ("petition_by_linked_case", Petition::LinkedToCaseId),
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
