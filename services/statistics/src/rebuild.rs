//! `xinfang statistics rebuild`: replays every stream statistics reads, from the start, into
//! an empty database, through consumers of its own (`<name>-rebuild`, which statistics' NATS
//! user may create and delete). The facts are the same events, so the rebuilt database
//! answers every figure as the live one does, byte for byte.

use std::time::{Duration, Instant};

use clap::Args;
use sea_orm::{EntityTrait, PaginatorTrait};
use tokio_util::sync::CancellationToken;
use xinfang_platform::config::PlatformConfig;
use xinfang_platform::consumer::ConsumerSpec;
use xinfang_platform::jetstream::remove_consumer;
use xinfang_platform::service::Service;
use xinfang_proto::subjects::{self, rebuild_consumer};

use crate::keep::{KeepFacts, SERVICE};
use crate::store::{case_record, event_fact};
use crate::{migrations, project};

#[derive(Debug, Clone, Args)]
pub struct RebuildArgs {
    /// The empty database to rebuild into (a SQLite file or PostgreSQL); never the live one.
    #[arg(long = "into", env = "XINFANG_REBUILD_DATABASE_URL")]
    pub database_url: String,
    #[command(flatten)]
    pub platform: PlatformConfig,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    pub facts: u64,
    pub cases: u64,
    pub elapsed: Duration,
}

/// How often the rebuild asks whether its consumers have caught up.
const POLL: Duration = Duration::from_millis(200);

pub async fn rebuild(args: &RebuildArgs) -> anyhow::Result<Rebuilt> {
    let started = Instant::now();
    let stop = CancellationToken::new();
    let mut service = Service::connect::<migrations::Migrator>(
        SERVICE,
        &args.database_url,
        &args.platform,
        &[],
        stop.clone(),
    )
    .await?;
    if event_fact::Entity::find().count(&service.db).await? > 0 {
        anyhow::bail!(
            "{} already holds facts: a rebuild goes into an empty database",
            args.database_url
        );
    }
    let jetstream = service.jetstream.clone();
    let db = service.db.clone();
    let mut names = Vec::new();
    for binding in subjects::STATISTICS_TAKES {
        let name = rebuild_consumer(&binding);
        // A rebuild that was interrupted left its consumers where it stopped: this one
        // starts from the beginning of the stream.
        remove_consumer(&jetstream, binding.stream.name, &name).await?;
        names.push((binding.stream.name, name.clone()));
        service.consume(
            ConsumerSpec {
                name,
                ..ConsumerSpec::from_binding(binding)
            },
            KeepFacts,
        );
    }
    let (router, _health) = service.grpc_server()?;
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let running = service.serve(router, loopback).await?;
    // Caught up: every rebuild consumer exists, has nothing left to deliver, and every
    // delivery was applied and acknowledged.
    loop {
        let mut caught_up = true;
        for (stream, name) in &names {
            let info = match jetstream.get_stream(*stream).await {
                Ok(stream) => stream.consumer_info(name).await.ok(),
                Err(_) => None,
            };
            caught_up &=
                info.is_some_and(|info| info.num_pending == 0 && info.num_ack_pending == 0);
        }
        if caught_up {
            break;
        }
        if running.task.is_finished() {
            anyhow::bail!("the rebuild stopped before it caught up; see the log");
        }
        tokio::time::sleep(POLL).await;
    }
    stop.cancel();
    running.task.await??;
    for (stream, name) in &names {
        if let Err(error) = remove_consumer(&jetstream, stream, name).await {
            tracing::warn!(consumer = %name, error = %error, "rebuild consumer not removed");
        }
    }
    // Folded as it went by this fold: nothing to fold again. Only now is it complete.
    project::mark_current(&db).await?;
    Ok(Rebuilt {
        facts: event_fact::Entity::find().count(&db).await?,
        cases: case_record::Entity::find().count(&db).await?,
        elapsed: started.elapsed(),
    })
}
