//! Petitions, their petitioners, and the case number sequences.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Petition {
    Table,
    CaseId,
    CaseNumber,
    RequestId,
    RequestFingerprint,
    Channel,
    SourceLevel,
    UpstreamReference,
    UpstreamDisposition,
    UpstreamDeadline,
    ReceivedAt,
    RegisteredAt,
    Anonymous,
    PeopleCount,
    Collective,
    TerritoryCode,
    MatterCategory,
    Title,
    Content,
    AccusedUnitCode,
}

#[derive(DeriveIden)]
enum Petitioner {
    Table,
    CaseId,
    Kind,
    Name,
    IdCardNumber,
    Phone,
    Address,
}

#[derive(DeriveIden)]
enum CaseNumberSequence {
    Table,
    RegionCode,
    Year,
    LastValue,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Petition::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Petition::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Petition::CaseNumber)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Petition::RequestId)
                            .uuid()
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Petition::RequestFingerprint)
                            .blob()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Petition::Channel).string().not_null())
                    .col(ColumnDef::new(Petition::SourceLevel).string().not_null())
                    .col(ColumnDef::new(Petition::UpstreamReference).string())
                    .col(ColumnDef::new(Petition::UpstreamDisposition).string())
                    .col(ColumnDef::new(Petition::UpstreamDeadline).date())
                    .col(
                        ColumnDef::new(Petition::ReceivedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Petition::RegisteredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Petition::Anonymous).boolean().not_null())
                    .col(ColumnDef::new(Petition::PeopleCount).integer().not_null())
                    .col(ColumnDef::new(Petition::Collective).boolean().not_null())
                    .col(ColumnDef::new(Petition::TerritoryCode).string().not_null())
                    .col(ColumnDef::new(Petition::MatterCategory).string().not_null())
                    .col(ColumnDef::new(Petition::Title).string().not_null())
                    .col(ColumnDef::new(Petition::Content).text().not_null())
                    .col(ColumnDef::new(Petition::AccusedUnitCode).string())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Petitioner::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Petitioner::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Petitioner::Kind).string().not_null())
                    .col(ColumnDef::new(Petitioner::Name).string().not_null())
                    .col(ColumnDef::new(Petitioner::IdCardNumber).string())
                    .col(ColumnDef::new(Petitioner::Phone).string())
                    .col(ColumnDef::new(Petitioner::Address).string())
                    .foreign_key(
                        ForeignKey::create()
                            .name("petitioner_petition")
                            .from(Petitioner::Table, Petitioner::CaseId)
                            .to(Petition::Table, Petition::CaseId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseNumberSequence::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CaseNumberSequence::RegionCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CaseNumberSequence::Year)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CaseNumberSequence::LastValue)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(CaseNumberSequence::RegionCode)
                            .col(CaseNumberSequence::Year),
                    )
                    .to_owned(),
            )
            .await
    }
}
