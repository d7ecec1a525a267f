//! Letters (numbered gap-free per year and kind), the sequences that number them, and the
//! alerts the timers fired — one row per deadline, level and due day, so that each fires
//! once whatever the replicas.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Letter {
    Table,
    Number,
    Kind,
    Year,
    Serial,
    CaseId,
    RecipientUnit,
    Issuer,
    Text,
    IssuedAt,
    IssuedBy,
    RequestId,
    ReplyDue,
    RepliedOn,
    Reply,
    FromUpstream,
}

#[derive(DeriveIden)]
enum LetterSequence {
    Table,
    Kind,
    Year,
    Last,
}

#[derive(DeriveIden)]
enum DeadlineAlert {
    Table,
    CaseId,
    Seq,
    Level,
    DueDay,
    FiredAt,
    LetterNumber,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Letter::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Letter::Number)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Letter::Kind).string().not_null())
                    .col(ColumnDef::new(Letter::Year).integer().not_null())
                    .col(ColumnDef::new(Letter::Serial).integer())
                    .col(ColumnDef::new(Letter::CaseId).uuid().not_null())
                    .col(ColumnDef::new(Letter::RecipientUnit).string().not_null())
                    .col(ColumnDef::new(Letter::Issuer).string().not_null())
                    .col(ColumnDef::new(Letter::Text).text().not_null())
                    .col(
                        ColumnDef::new(Letter::IssuedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Letter::IssuedBy).string().not_null())
                    .col(ColumnDef::new(Letter::RequestId).uuid().unique_key())
                    .col(ColumnDef::new(Letter::ReplyDue).date())
                    .col(ColumnDef::new(Letter::RepliedOn).date())
                    .col(ColumnDef::new(Letter::Reply).text().not_null())
                    .col(ColumnDef::new(Letter::FromUpstream).boolean().not_null())
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("letter_by_case", Letter::CaseId),
            ("letter_by_recipient", Letter::RecipientUnit),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Letter::Table)
                        .col(column)
                        .col(Letter::Number)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(LetterSequence::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(LetterSequence::Kind).string().not_null())
                    .col(ColumnDef::new(LetterSequence::Year).integer().not_null())
                    .col(ColumnDef::new(LetterSequence::Last).integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(LetterSequence::Kind)
                            .col(LetterSequence::Year),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DeadlineAlert::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(DeadlineAlert::CaseId).uuid().not_null())
                    .col(ColumnDef::new(DeadlineAlert::Seq).integer().not_null())
                    .col(ColumnDef::new(DeadlineAlert::Level).string().not_null())
                    .col(ColumnDef::new(DeadlineAlert::DueDay).date().not_null())
                    .col(
                        ColumnDef::new(DeadlineAlert::FiredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DeadlineAlert::LetterNumber)
                            .string()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(DeadlineAlert::CaseId)
                            .col(DeadlineAlert::Seq)
                            .col(DeadlineAlert::Level)
                            .col(DeadlineAlert::DueDay),
                    )
                    .to_owned(),
            )
            .await
    }
}
