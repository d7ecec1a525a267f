//! The raw ceiling of this machine for the same work, on the same servers: committed
//! single-row inserts into PostgreSQL and acknowledged publishes to JetStream, at the same
//! concurrency, with nothing of Xinfang in between.

use std::time::Instant;

use bytes::Bytes;
use sea_orm::{ConnectionTrait, Database};
use xinfang_testkit::{Stack, Svc};

pub struct Ceiling {
    pub inserts_per_second: f64,
    pub publishes_per_second: f64,
}

impl Ceiling {
    pub fn print(&self) {
        println!(
            "raw ceiling: {:.0} committed inserts/s (the services' database, one row per transaction), {:.0} acknowledged publishes/s (JetStream, 300 bytes)",
            self.inserts_per_second, self.publishes_per_second
        );
    }
}

pub async fn measure(
    stack: &Stack,
    operations: usize,
    concurrency: usize,
) -> anyhow::Result<Ceiling> {
    let db = Database::connect(stack.database_url(Svc::Statistics)).await?;
    db.execute_unprepared(
        "CREATE TABLE bench_ceiling (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)",
    )
    .await?;
    let body = "x".repeat(300);
    let started = Instant::now();
    let per_worker = operations.div_ceil(concurrency);
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let db = db.clone();
            let body = body.clone();
            tokio::spawn(async move {
                for _ in 0..per_worker {
                    db.execute_unprepared(&format!(
                        "INSERT INTO bench_ceiling (body) VALUES ('{body}')"
                    ))
                    .await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in futures::future::join_all(workers).await {
        worker??;
    }
    let inserts_per_second = (per_worker * concurrency) as f64 / started.elapsed().as_secs_f64();
    db.execute_unprepared("DROP TABLE bench_ceiling").await?;

    let jetstream = async_nats::jetstream::new(stack.nats.client().await?);
    jetstream
        .create_stream(async_nats::jetstream::stream::Config {
            name: "BENCH_CEILING".into(),
            subjects: vec!["bench.ceiling".into()],
            ..Default::default()
        })
        .await?;
    let payload = Bytes::from(vec![b'x'; 300]);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let jetstream = jetstream.clone();
            let payload = payload.clone();
            tokio::spawn(async move {
                for _ in 0..per_worker {
                    jetstream
                        .publish("bench.ceiling", payload.clone())
                        .await?
                        .await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in futures::future::join_all(workers).await {
        worker??;
    }
    let publishes_per_second = (per_worker * concurrency) as f64 / started.elapsed().as_secs_f64();
    jetstream.delete_stream("BENCH_CEILING").await?;
    Ok(Ceiling {
        inserts_per_second,
        publishes_per_second,
    })
}
