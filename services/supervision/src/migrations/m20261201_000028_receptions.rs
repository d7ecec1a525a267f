//! The roster of leaders who receive petitioners, and the reception sessions they held.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Leader {
    Table,
    Id,
    Name,
    Post,
    Level,
    Principal,
    AddedBy,
    AddedAt,
}

#[derive(DeriveIden)]
enum Reception {
    Table,
    Id,
    RequestId,
    LeaderId,
    LeaderLevel,
    ByPrincipalLeader,
    Kind,
    HeldAt,
    Place,
    PeopleReceived,
    CaseIds,
    RecordedBy,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Leader::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Leader::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Leader::Name).string().not_null())
                    .col(ColumnDef::new(Leader::Post).string().not_null())
                    .col(ColumnDef::new(Leader::Level).string().not_null())
                    .col(ColumnDef::new(Leader::Principal).boolean().not_null())
                    .col(ColumnDef::new(Leader::AddedBy).string().not_null())
                    .col(
                        ColumnDef::new(Leader::AddedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reception::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Reception::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Reception::RequestId)
                            .uuid()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Reception::LeaderId).string().not_null())
                    .col(ColumnDef::new(Reception::LeaderLevel).string().not_null())
                    .col(
                        ColumnDef::new(Reception::ByPrincipalLeader)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Reception::Kind).string().not_null())
                    .col(
                        ColumnDef::new(Reception::HeldAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Reception::Place).string().not_null())
                    .col(
                        ColumnDef::new(Reception::PeopleReceived)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Reception::CaseIds).text().not_null())
                    .col(ColumnDef::new(Reception::RecordedBy).string().not_null())
                    .col(
                        ColumnDef::new(Reception::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Reception::Table, Reception::LeaderId)
                            .to(Leader::Table, Leader::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reception_by_time")
                    .table(Reception::Table)
                    .col(Reception::HeldAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // One leader holds one session at a time: the same session entered twice (two
        // desks, a clerk re-entering it) must not count twice.
        manager
            .create_index(
                Index::create()
                    .name("reception_once")
                    .table(Reception::Table)
                    .col(Reception::LeaderId)
                    .col(Reception::HeldAt)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Reception::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Leader::Table).to_owned())
            .await
    }
}
