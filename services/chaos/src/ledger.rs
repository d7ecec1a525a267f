//! The ledger: every petition a client was told was accepted, and what each service holds
//! of it afterwards.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use anyhow::Context;
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;
use xinfang_platform::consumer::dead_letters::{self, Selection};
use xinfang_testkit::{Stack, Svc};

/// Accepted petitions: request id → case id, as the client was answered.
#[derive(Default)]
pub struct Ledger {
    accepted: Mutex<HashMap<Uuid, Uuid>>,
    /// A request answered with two different case ids: a petition registered twice.
    contradictions: Mutex<u64>,
}

impl Ledger {
    pub fn record(&self, request: Uuid, case: Uuid) {
        let mut accepted = self.accepted.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(earlier) = accepted.insert(request, case)
            && earlier != case
        {
            *self
                .contradictions
                .lock()
                .unwrap_or_else(|e| e.into_inner()) += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.accepted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn cases(&self) -> HashSet<Uuid> {
        let accepted = self.accepted.lock().unwrap_or_else(|e| e.into_inner());
        accepted.values().copied().collect()
    }

    fn contradictions(&self) -> u64 {
        *self
            .contradictions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// The table in each service that holds one row per case it knows.
pub fn case_table(svc: Svc) -> &'static str {
    match svc {
        Svc::Intake => "petition",
        Svc::Routing => "routing_decision",
        Svc::Supervision => "supervised_case",
        Svc::Statistics => "case_record",
    }
}

/// The cases a service holds completely: intake also knows where each went (its own
/// consumer of routing's decisions), statistics has all three of its events.
fn complete_cases(svc: Svc) -> String {
    match svc {
        Svc::Intake => "SELECT petition.case_id FROM petition \
             JOIN petition_scope ON petition_scope.case_id = petition.case_id"
            .to_owned(),
        Svc::Statistics => "SELECT case_id FROM event_fact WHERE event_type IN \
             ('xinfang.intake.v1.PetitionRegistered', 'xinfang.routing.v1.PetitionRouted', \
             'xinfang.supervision.v1.TimelineOpened') \
             GROUP BY case_id HAVING COUNT(DISTINCT event_type) = 3"
            .to_owned(),
        // Supervision knows a case from registration; complete once routing's decision came.
        Svc::Supervision => {
            "SELECT case_id FROM supervised_case WHERE routed_at IS NOT NULL".to_owned()
        }
        other => format!("SELECT case_id FROM {}", case_table(other)),
    }
}

/// What the services hold, measured against the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    pub accepted: u64,
    /// Ledger cases present and complete, per service (intake, routing, supervision,
    /// statistics).
    pub present: [u64; 4],
    /// Ledger cases missing from at least one service.
    pub lost: u64,
    /// Cases a service holds that no client was told about, and requests answered twice
    /// with different cases.
    pub doubled: u64,
    /// Dead letters about ledger cases: valid events stranded.
    pub stranded: u64,
    /// Every dead letter, injected poison included.
    pub dead_letters: u64,
}

impl Holdings {
    /// Every service holds exactly the ledger, and no valid event waits in dead letters.
    pub fn exact(&self) -> bool {
        self.accepted > 0
            && self.present.iter().all(|&n| n == self.accepted)
            && self.lost == 0
            && self.doubled == 0
            && self.stranded == 0
    }
}

pub async fn holdings(stack: &Stack, ledger: &Ledger) -> anyhow::Result<Holdings> {
    let expected = ledger.cases();
    let mut holdings = Holdings {
        accepted: expected.len() as u64,
        doubled: ledger.contradictions(),
        ..Holdings::default()
    };
    let mut missing: HashSet<Uuid> = HashSet::new();
    for (i, svc) in Svc::ALL.into_iter().enumerate() {
        let held = case_ids(
            stack,
            svc,
            &format!("SELECT case_id FROM {}", case_table(svc)),
        )
        .await?;
        let complete = case_ids(stack, svc, &complete_cases(svc)).await?;
        holdings.present[i] = expected.intersection(&complete).count() as u64;
        holdings.doubled += held.difference(&expected).count() as u64;
        missing.extend(expected.difference(&complete));
    }
    holdings.lost = missing.len() as u64;
    let jetstream = async_nats::jetstream::new(stack.nats.client().await?);
    let letters = dead_letters::list(&jetstream, &Selection::default())
        .await
        .context("read the dead letters")?;
    holdings.dead_letters = letters.len() as u64;
    holdings.stranded = letters
        .iter()
        .filter(|letter| {
            letter
                .envelope
                .as_ref()
                .is_some_and(|envelope| expected.contains(&envelope.case_id))
        })
        .count() as u64;
    Ok(holdings)
}

async fn case_ids(stack: &Stack, svc: Svc, query: &str) -> anyhow::Result<HashSet<Uuid>> {
    let db = sea_orm::Database::connect(stack.database_url(svc))
        .await
        .with_context(|| format!("connect to {}'s database", svc.name()))?;
    let statement = Statement::from_string(db.get_database_backend(), query.to_owned());
    let rows = db.query_all_raw(statement).await;
    db.close().await.ok();
    let rows = rows.with_context(|| format!("read {}'s cases", svc.name()))?;
    rows.iter()
        .map(|row| {
            row.try_get::<Uuid>("", "case_id")
                .with_context(|| format!("a case id in {}", svc.name()))
        })
        .collect()
}
