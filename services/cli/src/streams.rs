//! `xinfang streams declare`: the operator creates every stream, or brings it to this
//! build's configuration. The services may create a missing stream but never change one, so
//! this runs before the services start (`make run`, the Kubernetes job) and after an
//! upgrade that changes a stream.

use anyhow::Context;
use clap::Subcommand;
use xinfang_platform::config::NatsConfig;
use xinfang_platform::{department_feeds, jetstream};

use crate::departments::DepartmentSource;

#[derive(Subcommand)]
pub enum StreamCommand {
    /// Create or update every stream (as the operator NATS user), and with a directory the
    /// departments' durable consumers (`dept-<unit>`, filtered to each unit's subjects).
    Declare {
        #[command(flatten)]
        nats: NatsConfig,
        #[command(flatten)]
        departments: DepartmentSource,
    },
}

pub async fn run(command: StreamCommand) -> anyhow::Result<()> {
    let StreamCommand::Declare { nats, departments } = command;
    let departments = departments.departments().await?;
    let client = jetstream::connect(&nats, "operator").await?;
    let context = async_nats::jetstream::new(client);
    jetstream::declare_streams(&context, &nats)
        .await
        .context("declare the streams")?;
    for stream in xinfang_proto::subjects::STREAMS {
        println!("{}\t{}", stream.name, stream.subjects);
    }
    let retired = jetstream::remove_retired_consumers(&context)
        .await
        .context("remove the retired consumers")?;
    if retired > 0 {
        println!("{retired} retired consumers removed");
    }
    let declared = department_feeds::declare(&context, &departments)
        .await
        .map_err(|error| anyhow::anyhow!("declare the departments' consumers: {error}"))?;
    if declared > 0 {
        println!("{declared} department consumers");
    }
    Ok(())
}
