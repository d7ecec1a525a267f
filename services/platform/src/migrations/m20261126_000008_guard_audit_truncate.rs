//! PostgreSQL's row triggers do not fire on TRUNCATE: a statement trigger refuses it too, so
//! the audit table cannot be emptied at one stroke either. (SQLite has no TRUNCATE.)
//! The owner of the table could still drop the trigger: in production the service's role
//! must not own its tables (deploy/kubernetes/README.md).

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(
                "CREATE OR REPLACE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry \
                 FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
            )
            .await?;
        }
        Ok(())
    }
}
