//! The tamper-evident audit trail on both databases: rows are sealed into a hash chain, the
//! chain verifies while untouched, and a row changed or removed behind the triggers' back is
//! named as the first broken one.

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use xinfang_platform::auth::seal::{self, Verification};
use xinfang_platform::auth::{AuditLog, Caller, Role};
use xinfang_testkit::TestDatabase;

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = xinfang_platform::migrations::shared();
        migrations.extend(xinfang_platform::migrations::audit_seals());
        migrations
    }
}

async fn five_audited_reads(database: &TestDatabase) -> DatabaseConnection {
    let db = xinfang_platform::database::connect(database.url(), 2)
        .await
        .expect("connect");
    Migrator::up(&db, None).await.expect("migrate");
    let log = AuditLog::new(db.clone());
    let clerk = Caller {
        subject: "clerk-li".into(),
        roles: vec![Role::Registrar],
        units: Vec::new(),
    };
    for n in 0..5 {
        log.record(
            &clerk,
            "xinfang.intake.v1.IntakeService/GetPetition",
            Some(uuid::Uuid::now_v7()),
            true,
            &format!("read {n}"),
        )
        .await
        .expect("audited");
    }
    db
}

/// What an intruder with the database owner's rights does: lift the guard, then edit.
async fn behind_the_triggers(db: &DatabaseConnection, statement: &str) {
    let lift = match db.get_database_backend() {
        DatabaseBackend::Sqlite => vec![
            "DROP TRIGGER audit_entry_no_update",
            "DROP TRIGGER audit_entry_no_delete",
        ],
        _ => vec!["ALTER TABLE audit_entry DISABLE TRIGGER USER"],
    };
    for step in lift {
        db.execute_unprepared(step).await.expect("triggers lifted");
    }
    db.execute_unprepared(statement).await.expect("tampered");
}

async fn a_changed_row_is_named(database: TestDatabase) {
    let db = five_audited_reads(&database).await;
    assert_eq!(
        seal::verify(&db).await.expect("verify"),
        Verification::Intact {
            sealed: 0,
            unsealed: 5,
            head: seal::GENESIS.to_owned()
        }
    );
    assert_eq!(seal::seal_pending(&db).await.expect("sealed"), 5);
    assert_eq!(seal::seal_pending(&db).await.expect("nothing left"), 0);
    let Verification::Intact {
        sealed: 5,
        unsealed: 0,
        head,
    } = seal::verify(&db).await.expect("verify")
    else {
        panic!("five rows sealed");
    };
    assert_eq!(head.len(), 64);
    assert_ne!(head, seal::GENESIS);

    behind_the_triggers(
        &db,
        "UPDATE audit_entry SET allowed = false WHERE note = 'read 2'",
    )
    .await;
    let Verification::Broken { seq, why, .. } = seal::verify(&db).await.expect("verify") else {
        panic!("an edited row went unnoticed");
    };
    assert_eq!((seq, why.as_str()), (3, "the audit row was changed"));
}

async fn a_removed_row_is_named(database: TestDatabase) {
    let db = five_audited_reads(&database).await;
    seal::seal_pending(&db).await.expect("sealed");
    behind_the_triggers(&db, "DELETE FROM audit_entry WHERE note = 'read 3'").await;
    let Verification::Broken { seq, why, .. } = seal::verify(&db).await.expect("verify") else {
        panic!("a removed row went unnoticed");
    };
    assert_eq!((seq, why.as_str()), (4, "the audit row was removed"));
}

#[tokio::test]
async fn an_edited_audit_row_is_named_on_sqlite() {
    a_changed_row_is_named(TestDatabase::sqlite().expect("sqlite")).await;
}

#[tokio::test]
async fn an_edited_audit_row_is_named_on_postgres() {
    a_changed_row_is_named(TestDatabase::postgres().await.expect("postgres")).await;
}

#[tokio::test]
async fn a_removed_audit_row_is_named_on_sqlite() {
    a_removed_row_is_named(TestDatabase::sqlite().expect("sqlite")).await;
}

#[tokio::test]
async fn a_removed_audit_row_is_named_on_postgres() {
    a_removed_row_is_named(TestDatabase::postgres().await.expect("postgres")).await;
}

/// An intruder who also cuts the chain back and lets it be sealed again leaves a chain that
/// verifies, but no longer holds the head recorded before.
async fn a_rebuilt_chain_loses_the_recorded_head(database: TestDatabase) {
    let db = five_audited_reads(&database).await;
    seal::seal_pending(&db).await.expect("sealed");
    let Verification::Intact { head, .. } = seal::verify(&db).await.expect("verify") else {
        panic!("intact");
    };
    behind_the_triggers(
        &db,
        "UPDATE audit_entry SET note = 'nothing' WHERE note = 'read 2'",
    )
    .await;
    let lift = match db.get_database_backend() {
        DatabaseBackend::Sqlite => "DROP TRIGGER audit_seal_no_delete",
        _ => "ALTER TABLE audit_seal DISABLE TRIGGER USER",
    };
    db.execute_unprepared(lift).await.expect("lifted");
    db.execute_unprepared("DELETE FROM audit_seal WHERE seq >= 3")
        .await
        .expect("cut back");
    seal::seal_pending(&db).await.expect("sealed again");
    assert!(matches!(
        seal::verify(&db).await.expect("verify"),
        Verification::Intact { sealed: 5, .. }
    ));
    assert!(!seal::holds(&db, &head).await.expect("look up"));
}

#[tokio::test]
async fn a_rebuilt_chain_loses_the_recorded_head_on_sqlite() {
    a_rebuilt_chain_loses_the_recorded_head(TestDatabase::sqlite().expect("sqlite")).await;
}
