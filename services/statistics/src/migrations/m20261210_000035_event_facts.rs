//! Facts that keep their history: every event statistics counts is kept as it came, keyed
//! by its event id, and each case's record is folded from them. The old one-row-per-case
//! tables overwrote a case's earlier unit and state; they go. Their figures come back from
//! the streams: statistics' consumers are new (`statistics-facts-*`) and read from the start.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EventFact {
    Table,
    EventId,
    EventType,
    CaseId,
    RelatedCaseId,
    OccurredAt,
    Payload,
}

#[derive(DeriveIden)]
enum Projection {
    Table,
    Name,
    Version,
}

#[derive(DeriveIden)]
enum CaseRecord {
    Table,
    CaseId,
    CaseNumber,
    RegisteredOn,
    Channel,
    Sources,
    TerritoryCode,
    MatterCategory,
    People,
    Collective,
    SkipLevel,
    FirstTime,
    RepeatOf,
    LinkedInto,
    EscalatedTo,
    UnitCode,
    LeadPath,
    Track,
    WronglyRoutedTo,
    Assigned,
    Supervised,
    TimelineOpened,
    DoneOn,
    OpenDutyDue,
    AcceptanceDue,
    AcceptedOn,
    AcceptanceClosed,
    HandlingDue,
    RepliedOn,
    CompletedOn,
    Evaluation,
    EvaluatedOn,
    RepeatedOn,
}

fn text(column: CaseRecord) -> ColumnDef {
    ColumnDef::new(column).string().null().to_owned()
}

fn day(column: CaseRecord) -> ColumnDef {
    ColumnDef::new(column).date().null().to_owned()
}

fn flag(column: CaseRecord) -> ColumnDef {
    ColumnDef::new(column)
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["case_fact", "case_source", "wrong_routing"] {
            manager
                .drop_table(
                    Table::drop()
                        .table(Alias::new(table))
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(EventFact::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(EventFact::EventId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(EventFact::EventType).string().not_null())
                    .col(ColumnDef::new(EventFact::CaseId).uuid().null())
                    .col(ColumnDef::new(EventFact::RelatedCaseId).uuid().null())
                    .col(
                        ColumnDef::new(EventFact::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(EventFact::Payload).binary().not_null())
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("event_fact_case", vec![EventFact::CaseId]),
            ("event_fact_related_case", vec![EventFact::RelatedCaseId]),
            (
                "event_fact_type_time",
                vec![EventFact::EventType, EventFact::OccurredAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(EventFact::Table).if_not_exists();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Projection::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Projection::Name)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Projection::Version).integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseRecord::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CaseRecord::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CaseRecord::CaseNumber).string().not_null())
                    .col(day(CaseRecord::RegisteredOn))
                    .col(text(CaseRecord::Channel))
                    .col(ColumnDef::new(CaseRecord::Sources).string().not_null())
                    .col(text(CaseRecord::TerritoryCode))
                    .col(text(CaseRecord::MatterCategory))
                    .col(
                        ColumnDef::new(CaseRecord::People)
                            .big_integer()
                            .not_null()
                            .default(1),
                    )
                    .col(flag(CaseRecord::Collective))
                    .col(flag(CaseRecord::SkipLevel))
                    .col(flag(CaseRecord::FirstTime))
                    .col(ColumnDef::new(CaseRecord::RepeatOf).uuid().null())
                    .col(ColumnDef::new(CaseRecord::LinkedInto).uuid().null())
                    .col(text(CaseRecord::EscalatedTo))
                    .col(text(CaseRecord::UnitCode))
                    .col(ColumnDef::new(CaseRecord::LeadPath).string().not_null())
                    .col(text(CaseRecord::Track))
                    .col(
                        ColumnDef::new(CaseRecord::WronglyRoutedTo)
                            .string()
                            .not_null(),
                    )
                    .col(flag(CaseRecord::Assigned))
                    .col(flag(CaseRecord::Supervised))
                    .col(flag(CaseRecord::TimelineOpened))
                    .col(day(CaseRecord::DoneOn))
                    .col(day(CaseRecord::OpenDutyDue))
                    .col(day(CaseRecord::AcceptanceDue))
                    .col(day(CaseRecord::AcceptedOn))
                    .col(flag(CaseRecord::AcceptanceClosed))
                    .col(day(CaseRecord::HandlingDue))
                    .col(day(CaseRecord::RepliedOn))
                    .col(day(CaseRecord::CompletedOn))
                    .col(ColumnDef::new(CaseRecord::Evaluation).integer().null())
                    .col(day(CaseRecord::EvaluatedOn))
                    .col(day(CaseRecord::RepeatedOn))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("case_record_registered_on")
                    .table(CaseRecord::Table)
                    .col(CaseRecord::RegisteredOn)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
