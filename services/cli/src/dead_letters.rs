//! `xinfang dead-letters list|replay`: what consumers set aside and why, and publishing it
//! again once the reason is fixed. A replay is applied once by the consumer that set the
//! message aside, and by no one twice (the consumers' inboxes).

use clap::{Args, Subcommand};
use xinfang_platform::consumer::dead_letters::{self, Selection};

use crate::redrive::{NatsLogin, parse_time};

#[derive(Subcommand)]
pub enum DeadLetterCommand {
    /// List dead letters, oldest first: sequence, consumer, when, reason, where from.
    List(Which),
    /// Publish dead letters again on their original subjects.
    Replay(Which),
}

#[derive(Args)]
pub struct Which {
    /// Only those this consumer set aside (e.g. routing, statistics-facts-registered).
    #[arg(long)]
    consumer: Option<String>,
    /// Only those set aside from this time on (RFC 3339).
    #[arg(long)]
    from: Option<String>,
    /// Only those set aside before this time (RFC 3339).
    #[arg(long)]
    to: Option<String>,
    /// Only the one at this position of the dead-letter stream.
    #[arg(long)]
    sequence: Option<u64>,
    #[arg(
        long,
        env = "XINFANG_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats_url: String,
    #[command(flatten)]
    login: NatsLogin,
}

impl Which {
    fn selection(&self) -> anyhow::Result<Selection> {
        Ok(Selection {
            consumer: self.consumer.clone(),
            from: self
                .from
                .as_deref()
                .map(|t| parse_time("from", t))
                .transpose()?,
            to: self
                .to
                .as_deref()
                .map(|t| parse_time("to", t))
                .transpose()?,
            sequence: self.sequence,
        })
    }

    async fn jetstream(&self) -> anyhow::Result<async_nats::jetstream::Context> {
        Ok(async_nats::jetstream::new(
            self.login.connect(&self.nats_url).await?,
        ))
    }
}

pub async fn run(command: DeadLetterCommand) -> anyhow::Result<()> {
    match command {
        DeadLetterCommand::List(which) => {
            let selection = which.selection()?;
            let letters = dead_letters::list(&which.jetstream().await?, &selection).await?;
            for letter in &letters {
                let about = letter
                    .envelope
                    .as_ref()
                    .map(|e| format!(", case {}, event {}", e.case_id, e.event_id))
                    .unwrap_or_default();
                println!(
                    "#{}  {}  {}  {}  (from {}{about})",
                    letter.sequence,
                    letter.consumer,
                    letter.set_aside_at,
                    letter.reason,
                    letter.original_subject
                );
            }
            println!("{} dead letter(s)", letters.len());
        }
        DeadLetterCommand::Replay(which) => {
            let selection = which.selection()?;
            let replayed = dead_letters::replay(&which.jetstream().await?, &selection).await?;
            println!("replayed {replayed} dead letter(s) on their original subjects");
        }
    }
    Ok(())
}
