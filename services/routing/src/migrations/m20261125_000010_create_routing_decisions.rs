//! One routing decision per case, listed by unit.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RoutingDecision {
    Table,
    CaseId,
    CaseNumber,
    UnitCode,
    Disposition,
    Track,
    Rule,
    Reason,
    DirectoryVersion,
    TerritoryCode,
    MatterCategory,
    ReceivedAt,
    RoutedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RoutingDecision::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(RoutingDecision::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RoutingDecision::CaseNumber)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(RoutingDecision::UnitCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingDecision::Disposition)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RoutingDecision::Track).string().not_null())
                    .col(ColumnDef::new(RoutingDecision::Rule).string().not_null())
                    .col(ColumnDef::new(RoutingDecision::Reason).text().not_null())
                    .col(
                        ColumnDef::new(RoutingDecision::DirectoryVersion)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingDecision::TerritoryCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingDecision::MatterCategory)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingDecision::ReceivedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingDecision::RoutedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("routing_decision_by_unit")
                    .table(RoutingDecision::Table)
                    .col(RoutingDecision::UnitCode)
                    .col(RoutingDecision::CaseId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RoutingDecision::Table).to_owned())
            .await
    }
}
