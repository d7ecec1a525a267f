//! Statistics' schema: the shared tables, then its read model. Statistics publishes nothing
//! yet; its outbox stays empty, there so that every service starts the same way.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261125_000030_create_case_facts;
mod m20261126_000031_store_domain_codes;
mod m20261127_000032_add_routing_revisions;
mod m20261128_000033_create_wrong_routings;
mod m20261202_000034_case_sources;
mod m20261210_000035_event_facts;
mod m20261211_000036_diverted_cases;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = xinfang_platform::migrations::shared();
        migrations.extend(xinfang_platform::migrations::inbox());
        migrations.push(Box::new(m20261125_000030_create_case_facts::Migration));
        migrations.push(Box::new(m20261126_000031_store_domain_codes::Migration));
        migrations.push(Box::new(m20261127_000032_add_routing_revisions::Migration));
        migrations.push(Box::new(m20261128_000033_create_wrong_routings::Migration));
        migrations.extend(xinfang_platform::migrations::audit_seals());
        migrations.push(Box::new(m20261202_000034_case_sources::Migration));
        migrations.push(Box::new(m20261210_000035_event_facts::Migration));
        migrations.push(Box::new(m20261211_000036_diverted_cases::Migration));
        migrations
    }
}
