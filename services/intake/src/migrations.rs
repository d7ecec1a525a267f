//! Intake's schema: the shared tables (outbox) first, then its own.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261125_000002_create_petitions;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = xinfang_platform::migrations::shared();
        migrations.push(Box::new(m20261125_000002_create_petitions::Migration));
        migrations
    }
}
