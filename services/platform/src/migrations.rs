//! Tables services share the shape of: the outbox (every service that publishes), the
//! audit table (every service) and the inbox (every service that consumes). A service's migrator lists these first, then its own.

use sea_orm_migration::MigrationTrait;

mod m20261125_000001_create_outbox;
mod m20261125_000003_create_inbox;
mod m20261125_000005_create_audit;

/// The outbox (for publishing events) and the audit table (every service answers gRPC).
pub fn shared() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261125_000001_create_outbox::Migration),
        Box::new(m20261125_000005_create_audit::Migration),
    ]
}

/// The inbox, for a service that consumes events.
pub fn inbox() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261125_000003_create_inbox::Migration)]
}
