//! The audit table's hash chain: one seal per audit row, in the order sealed, each hash
//! covering the row and the seal before it. Append-only like the rows it seals.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditSeal {
    Table,
    Seq,
    EntryId,
    PrevHash,
    Hash,
    SealedAt,
}

const SQLITE_GUARDS: [&str; 2] = [
    "CREATE TRIGGER IF NOT EXISTS audit_seal_no_update BEFORE UPDATE ON audit_seal \
     BEGIN SELECT RAISE(ABORT, 'audit_seal is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_seal_no_delete BEFORE DELETE ON audit_seal \
     BEGIN SELECT RAISE(ABORT, 'audit_seal is append-only'); END",
];

const POSTGRES_GUARDS: [&str; 2] = [
    "CREATE OR REPLACE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE ON audit_seal \
     FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
    "CREATE OR REPLACE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal \
     FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditSeal::Table)
                    .col(
                        ColumnDef::new(AuditSeal::Seq)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditSeal::EntryId)
                            .big_integer()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(AuditSeal::PrevHash).string().not_null())
                    .col(ColumnDef::new(AuditSeal::Hash).string().not_null())
                    .col(
                        ColumnDef::new(AuditSeal::SealedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let guards = match db.get_database_backend() {
            DatabaseBackend::Sqlite => SQLITE_GUARDS,
            _ => POSTGRES_GUARDS,
        };
        for statement in guards {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
