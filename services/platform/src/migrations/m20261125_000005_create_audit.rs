//! The audit table, append-only: the database itself refuses to change or remove a row.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEntry {
    Table,
    Id,
    At,
    Subject,
    Roles,
    Units,
    Action,
    CaseId,
    Allowed,
    Note,
}

const SQLITE_GUARDS: [&str; 2] = [
    "CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_entry \
     BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_entry \
     BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
];

const POSTGRES_GUARDS: [&str; 2] = [
    "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS \
     $$ BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END $$",
    "CREATE OR REPLACE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry \
     FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEntry::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AuditEntry::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditEntry::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEntry::Subject).string().not_null())
                    .col(ColumnDef::new(AuditEntry::Roles).string().not_null())
                    .col(ColumnDef::new(AuditEntry::Units).string().not_null())
                    .col(ColumnDef::new(AuditEntry::Action).string().not_null())
                    .col(ColumnDef::new(AuditEntry::CaseId).uuid().null())
                    .col(ColumnDef::new(AuditEntry::Allowed).boolean().not_null())
                    .col(ColumnDef::new(AuditEntry::Note).string().not_null())
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
