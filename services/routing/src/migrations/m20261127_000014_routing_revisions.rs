//! Routing decisions have revisions (a clerk routes a case held for triage, or overrides
//! the rules), diversions their guidance notice and assignments their deadline; what a
//! manual decision needs to publish its event (channel, source, anonymity, the accused
//! unit, the higher bureau's deadline) is kept with the decision. Earlier revisions stay in
//! `routing_revision`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RoutingDecision {
    Table,
    Revision,
    DecidedBy,
    GuidanceNotice,
    AssignmentDeadline,
    AccusedUnitCode,
    Channel,
    SourceLevel,
    Anonymous,
    UpstreamDeadline,
}

#[derive(DeriveIden)]
enum RoutingRevision {
    Table,
    CaseId,
    Revision,
    UnitCode,
    Disposition,
    Rule,
    Reason,
    DecidedBy,
    RoutedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table a column at a time.
        let columns = [
            ColumnDef::new(RoutingDecision::Revision)
                .integer()
                .not_null()
                .default(1)
                .to_owned(),
            ColumnDef::new(RoutingDecision::DecidedBy)
                .string()
                .not_null()
                .default("rules")
                .to_owned(),
            ColumnDef::new(RoutingDecision::GuidanceNotice)
                .text()
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(RoutingDecision::AssignmentDeadline)
                .date()
                .to_owned(),
            ColumnDef::new(RoutingDecision::AccusedUnitCode)
                .string()
                .to_owned(),
            ColumnDef::new(RoutingDecision::Channel)
                .string()
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(RoutingDecision::SourceLevel)
                .string()
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(RoutingDecision::Anonymous)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(RoutingDecision::UpstreamDeadline)
                .date()
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(RoutingDecision::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RoutingRevision::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(RoutingRevision::CaseId).uuid().not_null())
                    .col(
                        ColumnDef::new(RoutingRevision::Revision)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingRevision::UnitCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingRevision::Disposition)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RoutingRevision::Rule).string().not_null())
                    .col(ColumnDef::new(RoutingRevision::Reason).text().not_null())
                    .col(
                        ColumnDef::new(RoutingRevision::DecidedBy)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingRevision::RoutedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(RoutingRevision::CaseId)
                            .col(RoutingRevision::Revision),
                    )
                    .to_owned(),
            )
            .await
    }
}
