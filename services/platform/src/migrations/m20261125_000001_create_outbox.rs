//! The outbox: events written in the same transaction as the state change they report.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Position,
    EventId,
    Subject,
    EventType,
    CaseId,
    OccurredAt,
    StagedAt,
    Payload,
    Traceparent,
    PublishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Outbox::Position)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Outbox::EventId)
                            .uuid()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Outbox::Subject).string().not_null())
                    .col(ColumnDef::new(Outbox::EventType).string().not_null())
                    .col(ColumnDef::new(Outbox::CaseId).uuid().not_null())
                    .col(
                        ColumnDef::new(Outbox::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Outbox::StagedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Outbox::Payload).blob().not_null())
                    .col(ColumnDef::new(Outbox::Traceparent).string())
                    .col(ColumnDef::new(Outbox::PublishedAt).timestamp_with_time_zone())
                    .to_owned(),
            )
            .await?;
        // The relay looks for unpublished rows; retention and redrive look by publish time.
        manager
            .create_index(
                Index::create()
                    .name("outbox_published_at")
                    .table(Outbox::Table)
                    .col(Outbox::PublishedAt)
                    .col(Outbox::Position)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
