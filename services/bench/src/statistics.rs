//! `xinfang-statistics-bench`: statistics at province scale, on its own PostgreSQL
//! database. Loads N case records (a year of a province's cases, spread over units, sources,
//! channels and outcomes), times the figure queries the API answers (p50 / p99), and
//! applies events through statistics' own handler (facts kept, cases folded) for the
//! events-per-second figure and the replay time it implies.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use prost::Message;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;
use xinfang_platform::consumer::Handler;
use xinfang_platform::envelope::Envelope;
use xinfang_platform::wire::{calendar_date, timestamp};
use xinfang_platform::write;
use xinfang_proto::Event;
use xinfang_proto::intake::v1::PetitionRegistered;
use xinfang_proto::routing::v1::PetitionRouted;
use xinfang_proto::supervision::v1::{CaseAdvanced, TimelineOpened};
use xinfang_proto::v1 as proto;
use xinfang_statistics::figures::Filter;
use xinfang_statistics::formula::formula;
use xinfang_statistics::keep::KeepFacts;
use xinfang_statistics::migrations::Migrator;
use xinfang_statistics::overview::consistent_overview;
use xinfang_statistics::period::Period;
use xinfang_statistics::query::{Asked, read_figures};
use xinfang_testkit::TestDatabase;

#[derive(Parser)]
#[command(
    name = "xinfang-statistics-bench",
    about = "Statistics at province scale"
)]
struct Args {
    /// Case records loaded before the queries are timed.
    #[arg(long, default_value_t = 1_000_000)]
    cases: u64,
    /// Times each query is asked.
    #[arg(long, default_value_t = 20)]
    repeat: usize,
    /// Events applied through the handler (four per case: registered, routed, timeline,
    /// accepted) for the events-per-second figure.
    #[arg(long, default_value_t = 20_000)]
    events: usize,
}

/// Units of a province-sized city: 40 towns and departments under 8 districts.
const UNITS: u64 = 40;

/// N case records of 2026 in one statement: spread by the row number's hash over the
/// year, the units (each under a district), sources, channels and outcomes.
async fn load(db: &DatabaseConnection, cases: u64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let sql = format!(
        "INSERT INTO case_record (case_id, case_number, registered_on, channel, sources, \
         territory_code, matter_category, people, collective, skip_level, first_time, \
         unit_code, lead_path, track, wrongly_routed_to, assigned, supervised, timeline_opened, \
         done_on, open_duty_due, acceptance_due, accepted_on, acceptance_closed, handling_due, \
         replied_on, completed_on, evaluation, evaluated_on) \
         SELECT md5(i::text)::uuid, '610481-2026-' || lpad(i::text, 7, '0'), d, \
           (ARRAY['online','letter','visit','phone'])[1 + h % 4], \
           (ARRAY['/local/','/national/','/provincial/','/prefecture/'])[1 + (h / 4) % 4], \
           'town-' || (h / 16) % {UNITS}, (ARRAY['land-acquisition','wage-arrears','housing','education'])[1 + (h / 7) % 4], \
           1 + (h % 3), false, false, (h % 5) <> 0, \
           'unit-' || (h / 16) % {UNITS}, '/xfj/district-' || ((h / 16) % {UNITS}) % 8 || '/unit-' || (h / 16) % {UNITS} || '/', \
           'appeal', '', (h % 11) = 0, (h % 13) = 0, true, \
           CASE WHEN h % 5 < 4 THEN d + 40 END, CASE WHEN h % 5 = 4 THEN d + 75 END, \
           d + 15, d + 5 + (h % 12), false, d + 75, \
           CASE WHEN h % 5 < 4 THEN d + 35 END, CASE WHEN h % 5 < 4 THEN d + 40 END, \
           CASE WHEN h % 5 < 3 THEN 1 + h % 3 END, CASE WHEN h % 5 < 3 THEN d + 45 END \
         FROM (SELECT i, abs(hashint4(i)) AS h, DATE '2026-01-01' + (abs(hashint4(i + 7)) % 365) AS d \
               FROM generate_series(1, {cases}) AS i) AS spread"
    );
    db.execute_unprepared(&sql)
        .await
        .context("load the cases")?;
    db.execute_unprepared("ANALYZE case_record").await?;
    Ok(started.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

async fn time_query(
    db: &DatabaseConnection,
    name: &str,
    period: &str,
    filter: Filter,
    repeat: usize,
) -> anyhow::Result<()> {
    let asked = Asked {
        period: Period::parse(period).map_err(anyhow::Error::msg)?,
        filter,
        as_of: None,
        formula: formula("v1").map_err(anyhow::Error::msg)?,
    };
    let now = datetime!(2026-12-31 12:00 +8);
    let mut took = Vec::with_capacity(repeat);
    let mut cases = 0;
    for _ in 0..repeat {
        let started = Instant::now();
        let figures = read_figures(db, &asked, now).await?;
        took.push(started.elapsed());
        cases = figures.status.map_or(0, |s| s.cases);
    }
    took.sort();
    println!(
        "  {name:<28} {period:<10} {cases:>8} cases  p50 {:>8.1} ms  p99 {:>8.1} ms",
        percentile(&took, 0.5).as_secs_f64() * 1e3,
        percentile(&took, 0.99).as_secs_f64() * 1e3
    );
    Ok(())
}

fn envelope<E: Event>(case_id: Uuid, at: OffsetDateTime) -> Envelope {
    Envelope {
        event_id: Uuid::now_v7(),
        event_type: E::full_name(),
        source: "/xinfang/bench".into(),
        case_id,
        occurred_at: at,
        traceparent: None,
    }
}

/// The four events of one case's first days.
fn case_events(n: usize) -> Vec<(Envelope, Vec<u8>)> {
    let case_id = Uuid::now_v7();
    let at = datetime!(2026-03-02 09:00 +8) + time::Duration::seconds(n as i64);
    let unit = format!("unit-{}", n % UNITS as usize);
    let day = at.date();
    let handling = proto::Deadline {
        kind: proto::DeadlineKind::Handling as i32,
        start: Some(calendar_date(day)),
        due: Some(calendar_date(day + time::Duration::days(60))),
        state: proto::DeadlineState::Running as i32,
        ..Default::default()
    };
    vec![
        (
            envelope::<PetitionRegistered>(case_id, at),
            PetitionRegistered {
                case_id: case_id.to_string(),
                case_number: format!("610481-2026-{n:07}"),
                channel: proto::Channel::Online as i32,
                source: Some(proto::PetitionSource {
                    level: proto::SourceLevel::National as i32,
                    ..Default::default()
                }),
                registered_at: Some(timestamp(at)),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (
            envelope::<PetitionRouted>(case_id, at),
            PetitionRouted {
                case_id: case_id.to_string(),
                unit_code: unit.clone(),
                unit_path: vec!["xfj".into(), unit.clone()],
                revision: 1,
                routed_at: Some(timestamp(at)),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (
            envelope::<TimelineOpened>(case_id, at),
            TimelineOpened {
                case_id: case_id.to_string(),
                unit_code: unit.clone(),
                opened_at: Some(timestamp(at)),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (
            envelope::<CaseAdvanced>(case_id, at + time::Duration::days(1)),
            CaseAdvanced {
                case_id: case_id.to_string(),
                unit_code: unit,
                stage: proto::CaseStage::Accepted as i32,
                occurred_on: Some(calendar_date(day)),
                deadlines: vec![handling],
                ..Default::default()
            }
            .encode_to_vec(),
        ),
    ]
}

/// Applies `events` through the handler, 50 to a transaction as a consumer's batch.
async fn apply_events(db: &DatabaseConnection, events: usize) -> anyhow::Result<f64> {
    let deliveries: Vec<(Envelope, Vec<u8>)> =
        (0..events.div_ceil(4)).flat_map(case_events).collect();
    let started = Instant::now();
    for batch in deliveries.chunks(50) {
        let transaction = db.begin().await?;
        for (envelope, payload) in batch {
            let decoded = KeepFacts
                .decode(envelope, payload)
                .map_err(anyhow::Error::msg)?;
            write::apply(
                &transaction,
                &KeepFacts.change(envelope, &decoded),
                OffsetDateTime::now_utc(),
            )
            .await
            .map_err(|failure| anyhow::anyhow!("{failure:?}"))?;
        }
        transaction.commit().await?;
    }
    Ok(deliveries.len() as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let database = TestDatabase::postgres()
        .await
        .context("create a database")?;
    let db = xinfang_platform::database::connect(database.url(), 4).await?;
    Migrator::up(&db, None).await?;

    let per_second = apply_events(&db, args.events).await?;
    println!(
        "xinfang-statistics-bench: events applied through the handler (fact kept, case folded): {per_second:.0}/s over {} events; a replay of 1,000,000 events at that rate: {:.0} s",
        args.events,
        1_000_000.0 / per_second
    );
    db.execute_unprepared("TRUNCATE event_fact, case_record")
        .await?;

    let loaded = load(&db, args.cases).await?;
    println!(
        "loaded {} case records in {:.1} s; each query asked {} times (figures as they stand, v1):",
        args.cases,
        loaded.as_secs_f64(),
        args.repeat
    );
    let unit = Filter {
        unit: Some("unit-7".into()),
        ..Filter::default()
    };
    let district = Filter {
        unit: Some("district-3".into()),
        ..Filter::default()
    };
    time_query(
        &db,
        "overview (all units)",
        "2026-H1",
        Filter::default(),
        args.repeat,
    )
    .await?;
    time_query(
        &db,
        "overview (all units)",
        "2026",
        Filter::default(),
        args.repeat,
    )
    .await?;
    time_query(
        &db,
        "overview (all units)",
        "2026-03",
        Filter::default(),
        args.repeat,
    )
    .await?;
    time_query(
        &db,
        "overview (all units)",
        "2026-W10",
        Filter::default(),
        args.repeat,
    )
    .await?;
    time_query(&db, "per unit", "2026-H1", unit.clone(), args.repeat).await?;
    time_query(&db, "per unit", "2026-W10", unit, args.repeat).await?;
    time_query(
        &db,
        "per district (subtree)",
        "2026-H1",
        district,
        args.repeat,
    )
    .await?;
    let started = Instant::now();
    let overview = consistent_overview(&db, datetime!(2026-12-31 12:00 +8)).await?;
    println!(
        "  GetOverview (every case so far) {:>8} cases  {:.1} ms",
        overview.cases,
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
