//! Tables services share the shape of: the outbox (every service that publishes), the
//! audit table (every service) and the inbox (every service that consumes). A service's migrator lists these first, then its own.

use sea_orm_migration::prelude::{Alias, Expr, ExprTrait, Query};
use sea_orm_migration::{DbErr, MigrationTrait, SchemaManager};

mod m20261125_000001_create_outbox;
mod m20261125_000003_create_inbox;
mod m20261125_000005_create_audit;
mod m20261126_000008_guard_audit_truncate;
mod m20261128_000009_create_recusals;
mod m20261128_000010_create_audit_seals;

/// The outbox (for publishing events) and the audit table (every service answers gRPC).
pub fn shared() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261125_000001_create_outbox::Migration),
        Box::new(m20261125_000005_create_audit::Migration),
        Box::new(m20261126_000008_guard_audit_truncate::Migration),
    ]
}

/// The inbox, for a service that consumes events.
pub fn inbox() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261125_000003_create_inbox::Migration)]
}

/// The audit table's hash chain (every service; listed after its own migrations, as it
/// came after them).
pub fn audit_seals() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261128_000010_create_audit_seals::Migration)]
}

/// The declared interests (Art 28), for a service that serves cases.
pub fn recusals() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261128_000009_create_recusals::Migration)]
}

/// Rewrites stored values of one column from an old spelling to a new one (`(old, new)`
/// pairs): for a migration that changes how an enum is stored.
pub async fn respell(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
    spellings: &[(&str, &str)],
) -> Result<(), DbErr> {
    for (old, new) in spellings {
        let update = Query::update()
            .table(Alias::new(table))
            .value(Alias::new(column), *new)
            .and_where(Expr::col(Alias::new(column)).eq(*old))
            .to_owned();
        manager.exec_stmt(update).await?;
    }
    Ok(())
}
