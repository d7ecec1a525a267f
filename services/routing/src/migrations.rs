//! Routing's schema: the shared tables (outbox, audit, inbox) first, then its own.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261125_000010_create_routing_decisions;
mod m20261125_000011_add_unit_paths;
mod m20261126_000012_store_domain_codes;
mod m20261126_000013_create_directory_publications;
mod m20261127_000014_routing_revisions;
mod m20261128_000015_directory_in_database;
mod m20261128_000016_co_handling_units;
mod m20261202_000017_linked_cases;
mod m20261202_000018_decision_reviews;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = xinfang_platform::migrations::shared();
        migrations.extend(xinfang_platform::migrations::inbox());
        migrations.push(Box::new(
            m20261125_000010_create_routing_decisions::Migration,
        ));
        migrations.push(Box::new(m20261125_000011_add_unit_paths::Migration));
        migrations.push(Box::new(m20261126_000012_store_domain_codes::Migration));
        migrations.push(Box::new(
            m20261126_000013_create_directory_publications::Migration,
        ));
        migrations.push(Box::new(m20261127_000014_routing_revisions::Migration));
        migrations.push(Box::new(m20261128_000015_directory_in_database::Migration));
        migrations.push(Box::new(m20261128_000016_co_handling_units::Migration));
        migrations.extend(xinfang_platform::migrations::recusals());
        migrations.extend(xinfang_platform::migrations::audit_seals());
        migrations.push(Box::new(m20261202_000017_linked_cases::Migration));
        migrations.push(Box::new(m20261202_000018_decision_reviews::Migration));
        migrations
    }
}
