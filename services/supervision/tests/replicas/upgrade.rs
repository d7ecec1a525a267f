//! A database an older build wrote: its timelines and deadlines are carried into the case
//! records the lifecycle keeps.

use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use sea_orm_migration::MigratorTrait;
use xinfang_supervision::case_record::CaseRecord;
use xinfang_supervision::lifecycle::{Clock, Stage};
use xinfang_supervision::migrations::Migrator;
use xinfang_supervision::store::case;
use xinfang_testkit::TestDatabase;

/// The migrations this build adds to the older schema (23–27, the declared interests, the
/// audit seals, 28, the receptions, and 29, the upstream obligations).
const ADDED: u32 = 9;

async fn older_build(db: &DatabaseConnection) {
    let all = u32::try_from(Migrator::migrations().len()).expect("a count");
    Migrator::up(db, Some(all - ADDED))
        .await
        .expect("older schema");
    // How the older build's sea-orm stored a UUID: a blob on SQLite.
    let id = match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => "X'0198f3a0000070008000000000000001'",
        _ => "'0198f3a0-0000-7000-8000-000000000001'",
    };
    for statement in [
        "INSERT INTO case_timeline (case_id, case_number, unit_code, disposition, track, \
         anonymous, received_at, routed_at, opened_at, unit_path) VALUES \
         (ID, '610481-2026-000001', 'zhaocun', 'forward', \
         'appeal', false, '2026-03-02 01:00:00+00:00', '2026-03-02 02:00:00+00:00', \
         '2026-03-02 02:00:01+00:00', '/zhaocun/')",
        "INSERT INTO deadline (case_id, kind, start_day, due_day, provisional) VALUES \
         (ID, 'forward', '2026-03-02', '2026-03-17', false), \
         (ID, 'notice-of-receipt', '2026-03-02', '2026-03-17', false)",
    ] {
        db.execute_unprepared(&statement.replace("ID", id))
            .await
            .expect("an older build's rows");
    }
}

async fn carried_over(database: TestDatabase) {
    let db = xinfang_platform::database::connect(database.url(), 1)
        .await
        .expect("connect");
    older_build(&db).await;
    Migrator::up(&db, None).await.expect("this build's schema");
    let rows = case::Entity::find().all(&db).await.expect("cases");
    assert_eq!(rows.len(), 1);
    let case = CaseRecord::load(&db, rows[0].case_id)
        .await
        .expect("readable")
        .expect("the case");
    assert_eq!(case.stage, Stage::AwaitingSignFor);
    assert_eq!(case.row.unit_code, "zhaocun");
    // The forward clock met by the routing decision; the notice clock the older build
    // started at routing is gone (it opens at the unit's sign-for).
    let clocks: Vec<(Clock, String, Option<String>)> = case
        .ledger
        .entries
        .iter()
        .map(|entry| {
            (
                entry.clock,
                entry.due.to_string(),
                entry.met_on.map(|day| day.to_string()),
            )
        })
        .collect();
    assert_eq!(
        clocks,
        vec![(
            Clock::Forward,
            "2026-03-17".to_owned(),
            Some("2026-03-02".to_owned())
        )]
    );
}

#[tokio::test]
async fn an_older_builds_timelines_are_carried_over_on_postgres() {
    carried_over(TestDatabase::postgres().await.expect("database")).await;
}

#[tokio::test]
async fn an_older_builds_timelines_are_carried_over_on_sqlite() {
    carried_over(TestDatabase::sqlite().expect("database")).await;
}
