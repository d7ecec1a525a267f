//! Attachments by reference: name, type, size and digest of each document a petition refers
//! to (the documents themselves stay in the bureau's archive).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PetitionAttachment {
    Table,
    CaseId,
    Position,
    Name,
    MediaType,
    SizeBytes,
    Sha256,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PetitionAttachment::Table)
                    .col(ColumnDef::new(PetitionAttachment::CaseId).uuid().not_null())
                    .col(
                        ColumnDef::new(PetitionAttachment::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PetitionAttachment::Name).string().not_null())
                    .col(
                        ColumnDef::new(PetitionAttachment::MediaType)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PetitionAttachment::SizeBytes)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PetitionAttachment::Sha256)
                            .string()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(PetitionAttachment::CaseId)
                            .col(PetitionAttachment::Position),
                    )
                    .to_owned(),
            )
            .await
    }
}
