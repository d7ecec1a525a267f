//! Tables every service has besides its own: the outbox (and, with the consumers, the
//! inbox). A service's migrator lists these first, then its own.

use sea_orm_migration::MigrationTrait;

mod m20261125_000001_create_outbox;

/// The shared migrations, in the order they were written.
pub fn shared() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261125_000001_create_outbox::Migration)]
}
