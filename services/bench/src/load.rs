//! The load: petitions from concurrent clients, timed from submit to acknowledged and from
//! submit to counted by statistics.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, Statement};
use xinfang_platform::auth::Role;
use xinfang_proto::intake::v1::intake_service_client::IntakeServiceClient;
use xinfang_proto::statistics::v1::{
    GetOverviewRequest, statistics_service_client::StatisticsServiceClient,
};
use xinfang_proto::subjects::{self, INTAKE_STREAM, ROUTING_STREAM, SUPERVISION_STREAM};
use xinfang_testkit::auth::{self, Authed};
use xinfang_testkit::{Stack, Svc, sample};

pub struct Run {
    petitions: usize,
    /// Submit → acknowledged, per petition.
    acknowledged: Vec<Duration>,
    /// Submit → counted, per petition (see `counted_latencies`).
    counted: Vec<Duration>,
    /// First submit → last counted.
    elapsed: Duration,
}

impl Run {
    pub fn processed_per_second(&self) -> f64 {
        self.petitions as f64 / self.elapsed.as_secs_f64()
    }

    pub fn print(&self) {
        println!(
            "processed: {} petitions in {:.2} s = {:.0} petitions/s fully processed (counted by statistics)",
            self.petitions,
            self.elapsed.as_secs_f64(),
            self.processed_per_second()
        );
        println!(
            "submit -> acknowledged: p50 {:.1} ms, p99 {:.1} ms",
            percentile(&self.acknowledged, 50.0),
            percentile(&self.acknowledged, 99.0)
        );
        println!(
            "submit -> counted:      p50 {:.1} ms, p99 {:.1} ms",
            percentile(&self.counted, 50.0),
            percentile(&self.counted, 99.0)
        );
    }
}

pub fn percentile(samples: &[Duration], p: f64) -> f64 {
    let mut sorted: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub async fn run(stack: &Stack, petitions: usize, concurrency: usize) -> anyhow::Result<Run> {
    let token = auth::token(&[Role::Registrar, Role::Supervisor], &[]);
    let channel = auth::authed(&stack.grpc_url(Svc::Intake), &token);
    let statistics_channel = auth::authed(&stack.grpc_url(Svc::Statistics), &token);
    let started = Instant::now();

    // Statistics is polled while the load runs: when the count of timelines first reaches k,
    // the k-th petition (in acknowledgement order) counts as counted.
    let watcher = tokio::spawn(watch_counts(
        StatisticsServiceClient::new(statistics_channel),
        petitions,
    ));
    let per_client = petitions.div_ceil(concurrency);
    let clients: Vec<_> = (0..concurrency)
        .map(|client| {
            let mut intake = IntakeServiceClient::new(channel.clone());
            tokio::spawn(async move {
                let mut timings = Vec::new();
                for i in 0..per_client {
                    let index = client * per_client + i;
                    if index >= petitions {
                        break;
                    }
                    let submitted = Instant::now();
                    intake.create_petition(sample::create(index)).await?;
                    timings.push((submitted, submitted.elapsed()));
                }
                anyhow::Ok(timings)
            })
        })
        .collect();
    let mut submissions = Vec::new();
    for client in futures::future::join_all(clients).await {
        submissions.extend(client.context("client task")??);
    }
    let counted_at = watcher.await.context("watcher task")??;
    // Order by acknowledgement time, so rank k meets the k-th count.
    submissions.sort_by_key(|(submitted, took)| *submitted + *took);
    let counted = submissions
        .iter()
        .zip(&counted_at)
        .map(|((submitted, _), counted)| counted.saturating_duration_since(*submitted))
        .collect();
    let elapsed = counted_at
        .last()
        .map(|last| last.duration_since(started))
        .unwrap_or_default();
    Ok(Run {
        petitions,
        acknowledged: submissions.iter().map(|(_, took)| *took).collect(),
        counted,
        elapsed,
    })
}

/// When the count of cases with a timeline first reached 1, 2, ... `petitions`.
async fn watch_counts(
    mut statistics: StatisticsServiceClient<Authed>,
    petitions: usize,
) -> anyhow::Result<Vec<Instant>> {
    let mut reached = Vec::with_capacity(petitions);
    let deadline = Instant::now() + Duration::from_secs(600);
    while reached.len() < petitions {
        if Instant::now() > deadline {
            bail!(
                "only {} of {petitions} counted after 10 minutes",
                reached.len()
            );
        }
        let overview = statistics
            .get_overview(GetOverviewRequest {})
            .await?
            .into_inner();
        let supervised = usize::try_from(overview.timelines_opened).unwrap_or(usize::MAX);
        let now = Instant::now();
        while reached.len() < supervised.min(petitions) {
            reached.push(now);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(reached)
}

/// Every service holds exactly `expected` cases, every stream exactly `expected` events.
pub async fn zero_loss(stack: &Stack, expected: u64) -> anyhow::Result<String> {
    let mut found = Vec::new();
    for (svc, table) in [
        (Svc::Intake, "petition"),
        (Svc::Routing, "routing_decision"),
        (Svc::Supervision, "supervised_case"),
        (Svc::Statistics, "case_record"),
    ] {
        let db = sea_orm::Database::connect(stack.database_url(svc)).await?;
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await?
            .context("a count")?;
        let n: i64 = row.try_get("", "n")?;
        found.push((format!("{} {table}", svc.name()), n as u64));
    }
    // Each case's event on each stream; other events (the directory routing announces at
    // start) are not counted.
    let jetstream = async_nats::jetstream::new(stack.nats.client().await?);
    for (stream, filter) in [
        (INTAKE_STREAM, subjects::PETITION_REGISTERED),
        (ROUTING_STREAM, subjects::ANY_PETITION_ROUTED),
        (SUPERVISION_STREAM, subjects::ANY_TIMELINE_OPENED),
    ] {
        let handle = jetstream.get_stream(stream.name).await?;
        let mut counter = handle
            .create_consumer(async_nats::jetstream::consumer::pull::Config {
                filter_subject: filter.to_owned(),
                ..Default::default()
            })
            .await?;
        found.push((
            format!("{filter} on {}", stream.name),
            counter.info().await?.num_pending,
        ));
    }
    let wrong: Vec<String> = found
        .iter()
        .filter(|(_, n)| *n != expected)
        .map(|(what, n)| format!("{what} = {n}"))
        .collect();
    Ok(if wrong.is_empty() {
        format!(
            "PASS ({expected} in each of {} places, none lost, none doubled)",
            found.len()
        )
    } else {
        format!("FAIL (expected {expected}): {}", wrong.join(", "))
    })
}
