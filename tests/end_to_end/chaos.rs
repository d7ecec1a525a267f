//! The fault suite's light run (`make chaos` runs it in full, with its table): each fault
//! under load, and afterwards every service holds exactly the petitions the clients were
//! told were accepted — none lost, none doubled, no valid event stranded in dead letters.

use xinfang_chaos::{Intensity, Scenario, print_table, run};

async fn holds_exactly_the_ledger_after(scenario: Scenario) {
    let outcome = run(scenario, Intensity::Light)
        .await
        .unwrap_or_else(|error| panic!("{}: {error:#}", scenario.name()));
    print_table(std::slice::from_ref(&outcome));
    assert!(outcome.passed(), "{outcome:?}");
}

#[tokio::test]
async fn services_killed_at_random_lose_and_double_nothing() {
    holds_exactly_the_ledger_after(Scenario::Kill { seed: 7 }).await;
}

#[tokio::test]
async fn a_broker_down_longer_than_its_duplicate_window_doubles_nothing() {
    holds_exactly_the_ledger_after(Scenario::BrokerBeyondDuplicateWindow).await;
}

#[tokio::test]
async fn a_database_stopped_under_load_loses_and_strands_nothing() {
    holds_exactly_the_ledger_after(Scenario::DatabaseDown).await;
}

#[tokio::test]
async fn connections_terminated_every_200_ms_lose_and_double_nothing() {
    holds_exactly_the_ledger_after(Scenario::ConnectionsTerminated).await;
}

#[tokio::test]
async fn a_full_broker_disk_loses_nothing_once_freed() {
    if !xinfang_chaos::faults::SmallDisk::can_mount() {
        eprintln!("skipped: mounting a small disk needs root");
        return;
    }
    holds_exactly_the_ledger_after(Scenario::BrokerDiskFull).await;
}

#[tokio::test]
async fn poison_and_duplicates_on_every_stream_strand_nothing_valid() {
    holds_exactly_the_ledger_after(Scenario::PoisonAndDuplicates).await;
}
