//! The table a run prints: one row per scenario.

use crate::Outcome;

pub fn print_table(outcomes: &[Outcome]) {
    println!(
        "| scenario | accepted | intake | routing | supervision | statistics | lost | doubled | dead-lettered (stranded) | drained in | result | notes |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for outcome in outcomes {
        let h = &outcome.holdings;
        let drain = outcome.drain.map_or_else(
            || "never".to_owned(),
            |d| format!("{:.1} s", d.as_secs_f64()),
        );
        let mut notes = format!(
            "{}; {} accepted after",
            outcome.note, outcome.accepted_after
        );
        if outcome.client_failures > 0 {
            notes.push_str(&format!("; {} client failures", outcome.client_failures));
        }
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} | {} | {} |",
            outcome.scenario,
            h.accepted,
            h.present[0],
            h.present[1],
            h.present[2],
            h.present[3],
            h.lost,
            h.doubled,
            h.dead_letters,
            h.stranded,
            drain,
            if outcome.passed() { "pass" } else { "FAIL" },
            notes
        );
    }
}
