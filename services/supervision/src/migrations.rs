//! Supervision's schema: the shared tables (outbox, inbox) first, then its own.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261125_000020_create_timelines;
mod m20261125_000021_add_unit_paths;
mod m20261126_000022_store_domain_codes;
mod m20261127_000023_case_lifecycle;
mod m20261127_000024_holiday_notices;
mod m20261127_000025_letters_and_alerts;
mod m20261127_000026_leaders_and_watch_lists;
mod m20261127_000027_routing_revisions;
mod m20261201_000028_receptions;
mod m20261202_000029_upstream_obligations;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = xinfang_platform::migrations::shared();
        migrations.extend(xinfang_platform::migrations::inbox());
        migrations.push(Box::new(m20261125_000020_create_timelines::Migration));
        migrations.push(Box::new(m20261125_000021_add_unit_paths::Migration));
        migrations.push(Box::new(m20261126_000022_store_domain_codes::Migration));
        migrations.push(Box::new(m20261127_000023_case_lifecycle::Migration));
        migrations.push(Box::new(m20261127_000024_holiday_notices::Migration));
        migrations.push(Box::new(m20261127_000025_letters_and_alerts::Migration));
        migrations.push(Box::new(
            m20261127_000026_leaders_and_watch_lists::Migration,
        ));
        migrations.push(Box::new(m20261127_000027_routing_revisions::Migration));
        migrations.extend(xinfang_platform::migrations::recusals());
        migrations.extend(xinfang_platform::migrations::audit_seals());
        migrations.push(Box::new(m20261201_000028_receptions::Migration));
        migrations.push(Box::new(m20261202_000029_upstream_obligations::Migration));
        migrations
    }
}
