//! Watching events on JetStream without disturbing any service's consumer: an ordered,
//! ephemeral consumer per stream, printing the envelope of each event.

use anyhow::Context;
use async_nats::jetstream::{self, consumer};
use clap::Subcommand;
use futures::StreamExt;
use xinfang_platform::envelope::Envelope;
use xinfang_proto::subjects;

#[derive(Subcommand)]
pub enum EventsCommand {
    /// Print events as they arrive (from the start of the stream with --all).
    Tail {
        #[arg(
            long,
            env = "XINFANG_NATS_URL",
            default_value = "nats://127.0.0.1:4222"
        )]
        nats_url: String,
        #[command(flatten)]
        login: crate::redrive::NatsLogin,
        /// The stream to read.
        #[arg(long, default_value = subjects::INTAKE_STREAM.name)]
        stream: String,
        /// Start from the first event kept instead of new ones only.
        #[arg(long)]
        all: bool,
    },
}

pub async fn run(command: EventsCommand) -> anyhow::Result<()> {
    let EventsCommand::Tail {
        nats_url,
        login,
        stream,
        all,
    } = command;
    let client = login.connect(&nats_url).await?;
    let stream = jetstream::new(client)
        .get_stream(&stream)
        .await
        .with_context(|| format!("find stream {stream}"))?;
    let deliver_policy = if all {
        consumer::DeliverPolicy::All
    } else {
        consumer::DeliverPolicy::New
    };
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            deliver_policy,
            ..Default::default()
        })
        .await
        .context("create an ordered consumer")?;
    let mut messages = consumer.messages().await.context("read the stream")?;
    while let Some(message) = messages.next().await {
        let message = message.context("read an event")?;
        match Envelope::from_headers(message.headers.as_ref()) {
            Ok(envelope) => println!(
                "{}  {}  case {}  event {}  ({} bytes)",
                envelope.occurred_at,
                envelope.event_type,
                envelope.case_id,
                envelope.event_id,
                message.payload.len()
            ),
            Err(error) => println!("{}  (no envelope: {error})", message.subject),
        }
    }
    Ok(())
}
