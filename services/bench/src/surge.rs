//! The surge channel under load: the online platform submits over NATS from concurrent
//! senders, each waiting for its receipt before the next; registrations per second and
//! submit → receipt latency, with however many intake replicas the stack runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use prost::Message;
use tokio::sync::oneshot;
use xinfang_proto::intake::v1::{Submission, SubmissionReceipt, submission_receipt::Outcome};
use xinfang_proto::subjects::{receipts_of, submission_subject};
use xinfang_proto::v1 as proto;
use xinfang_testkit::{Stack, sample};

use crate::load::percentile;

const SYSTEM: &str = "online-platform";

pub struct SurgeRun {
    replicas: usize,
    submissions: usize,
    elapsed: Duration,
    /// Publish → receipt, per submission.
    receipts: Vec<Duration>,
}

impl SurgeRun {
    pub fn registrations_per_second(&self) -> f64 {
        self.submissions as f64 / self.elapsed.as_secs_f64()
    }

    pub fn print(&self) {
        println!(
            "surge channel, {} intake replica(s): {} submissions in {:.2} s = {:.0} registrations/s; publish -> receipt p50 {:.1} ms, p99 {:.1} ms",
            self.replicas,
            self.submissions,
            self.elapsed.as_secs_f64(),
            self.registrations_per_second(),
            percentile(&self.receipts, 50.0),
            percentile(&self.receipts, 99.0)
        );
    }
}

type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<SubmissionReceipt>>>>;

/// `submissions` petitions from `concurrency` senders; `first_index` keeps each run's
/// petitioners apart from the others' (the same person again would be a repeat).
pub async fn run(
    stack: &Stack,
    replicas: usize,
    submissions: usize,
    concurrency: usize,
    first_index: usize,
) -> anyhow::Result<SurgeRun> {
    let client = stack.submitter(SYSTEM).await?;
    let waiting: Waiting = Arc::default();
    let mut receipts = client.subscribe(receipts_of(SYSTEM)).await?;
    let dispatch = {
        let waiting = waiting.clone();
        tokio::spawn(async move {
            while let Some(message) = receipts.next().await {
                let Ok(receipt) = SubmissionReceipt::decode(message.payload) else {
                    continue;
                };
                let sender = waiting
                    .lock()
                    .ok()
                    .and_then(|mut waiting| waiting.remove(&receipt.request_id));
                if let Some(sender) = sender {
                    let _ = sender.send(receipt);
                }
            }
        })
    };
    client.flush().await?;
    let jetstream = async_nats::jetstream::new(client.clone());
    let per_sender = submissions.div_ceil(concurrency);
    let started = Instant::now();
    let senders: Vec<_> = (0..concurrency)
        .map(|sender| {
            let (jetstream, waiting) = (jetstream.clone(), waiting.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_sender);
                for n in 0..per_sender {
                    let index = first_index + sender * per_sender + n;
                    latencies.push(submit(&jetstream, &waiting, index).await?);
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(per_sender * concurrency);
    for sender in futures::future::join_all(senders).await {
        latencies.extend(sender??);
    }
    let elapsed = started.elapsed();
    dispatch.abort();
    Ok(SurgeRun {
        replicas,
        submissions: latencies.len(),
        elapsed,
        receipts: latencies,
    })
}

async fn submit(
    jetstream: &async_nats::jetstream::Context,
    waiting: &Waiting,
    index: usize,
) -> anyhow::Result<Duration> {
    let request_id = format!("{:032x}", (index as u128) | (0xbe4c << 112));
    let request_id = uuid_text(&request_id);
    let (answered, receipt) = oneshot::channel();
    waiting
        .lock()
        .map_err(|_| anyhow::anyhow!("the receipt table is poisoned"))?
        .insert(request_id.clone(), answered);
    let submission = Submission {
        request_id: request_id.clone(),
        petition: Some(proto::Petition {
            channel: 0,
            source: None,
            ..sample::petition(index)
        }),
    };
    let sent = Instant::now();
    jetstream
        .publish(
            submission_subject("online", SYSTEM),
            submission.encode_to_vec().into(),
        )
        .await?
        .await
        .context("queue a submission")?;
    let receipt = tokio::time::timeout(Duration::from_secs(120), receipt)
        .await
        .with_context(|| format!("no receipt for {request_id} within 120 s"))??;
    match receipt.outcome {
        Some(Outcome::Accepted(_)) => Ok(sent.elapsed()),
        other => anyhow::bail!("submission {request_id} not registered: {other:?}"),
    }
}

/// 32 hex digits as a hyphenated UUID.
fn uuid_text(hex: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
