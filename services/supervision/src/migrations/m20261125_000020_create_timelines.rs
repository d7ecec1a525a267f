//! Case timelines and their deadlines, found by unit and by due day.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseTimeline {
    Table,
    CaseId,
    CaseNumber,
    UnitCode,
    Disposition,
    Track,
    Anonymous,
    ReceivedAt,
    RoutedAt,
    OpenedAt,
}

#[derive(DeriveIden)]
enum Deadline {
    Table,
    CaseId,
    Kind,
    StartDay,
    DueDay,
    Provisional,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CaseTimeline::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CaseTimeline::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CaseTimeline::CaseNumber)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(CaseTimeline::UnitCode).string().not_null())
                    .col(
                        ColumnDef::new(CaseTimeline::Disposition)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CaseTimeline::Track).string().not_null())
                    .col(ColumnDef::new(CaseTimeline::Anonymous).boolean().not_null())
                    .col(
                        ColumnDef::new(CaseTimeline::ReceivedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CaseTimeline::RoutedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CaseTimeline::OpenedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("case_timeline_by_unit")
                    .table(CaseTimeline::Table)
                    .col(CaseTimeline::UnitCode)
                    .col(CaseTimeline::CaseId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Deadline::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Deadline::CaseId).uuid().not_null())
                    .col(ColumnDef::new(Deadline::Kind).string().not_null())
                    .col(ColumnDef::new(Deadline::StartDay).date().not_null())
                    .col(ColumnDef::new(Deadline::DueDay).date().not_null())
                    .col(ColumnDef::new(Deadline::Provisional).boolean().not_null())
                    .primary_key(Index::create().col(Deadline::CaseId).col(Deadline::Kind))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Deadline::Table, Deadline::CaseId)
                            .to(CaseTimeline::Table, CaseTimeline::CaseId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deadline_by_due_day")
                    .table(Deadline::Table)
                    .col(Deadline::DueDay)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
