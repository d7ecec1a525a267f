//! Intake's schema: the shared tables (outbox, audit, inbox) and its own.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261125_000002_create_petitions;
mod m20261125_000006_create_petition_scopes;
mod m20261125_000007_create_case_number_voids;
mod m20261126_000008_create_known_units_and_accused_persons;
mod m20261127_000009_create_final_matters;
mod m20261127_000010_add_scope_revisions;
mod m20261128_000011_create_attachments;
mod m20261129_000012_seal_identities;
mod m20261129_000013_add_petition_relations;
mod m20261130_000014_add_registering_units;
mod m20261201_000015_add_visit_records;
mod m20261202_000016_add_upstream_links;
mod m20261202_000017_create_petition_corrections;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = xinfang_platform::migrations::shared();
        migrations.push(Box::new(m20261125_000002_create_petitions::Migration));
        migrations.extend(xinfang_platform::migrations::inbox());
        migrations.push(Box::new(m20261125_000006_create_petition_scopes::Migration));
        migrations.push(Box::new(
            m20261125_000007_create_case_number_voids::Migration,
        ));
        migrations.push(Box::new(
            m20261126_000008_create_known_units_and_accused_persons::Migration,
        ));
        migrations.push(Box::new(m20261127_000009_create_final_matters::Migration));
        migrations.push(Box::new(m20261127_000010_add_scope_revisions::Migration));
        migrations.extend(xinfang_platform::migrations::recusals());
        migrations.extend(xinfang_platform::migrations::audit_seals());
        migrations.push(Box::new(m20261128_000011_create_attachments::Migration));
        migrations.push(Box::new(m20261129_000012_seal_identities::Migration));
        migrations.push(Box::new(m20261129_000013_add_petition_relations::Migration));
        migrations.push(Box::new(m20261130_000014_add_registering_units::Migration));
        migrations.push(Box::new(m20261201_000015_add_visit_records::Migration));
        migrations.push(Box::new(m20261202_000016_add_upstream_links::Migration));
        migrations.push(Box::new(
            m20261202_000017_create_petition_corrections::Migration,
        ));
        migrations
    }
}
