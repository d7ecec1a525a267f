//! The surge channel under load: the online platform queues a burst of submissions over
//! NATS; registrations per second and publish → receipt latency, with however many intake
//! replicas the stack runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use prost::Message;
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

/// `submissions` petitions queued at once, as a surge comes (publishes pipelined, each
/// awaited for the server's acknowledgement), then drained by the replicas; `first_index`
/// keeps each run's petitioners apart from the others' (the same person again would be a
/// repeat). The rate is submissions over first publish → last receipt; each latency is
/// publish → receipt, queueing included.
pub async fn run(
    stack: &Stack,
    replicas: usize,
    submissions: usize,
    first_index: usize,
) -> anyhow::Result<SurgeRun> {
    let client = stack.submitter(SYSTEM).await?;
    let mut receipts = client.subscribe(receipts_of(SYSTEM)).await?;
    client.flush().await?;
    let jetstream = async_nats::jetstream::new(client.clone());
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    let publishing = {
        let sent = sent.clone();
        tokio::spawn(async move {
            let indices: Vec<usize> = (first_index..first_index + submissions).collect();
            for chunk in indices.chunks(200) {
                let mut acks = Vec::with_capacity(chunk.len());
                for &index in chunk {
                    let request_id = request_id(index);
                    let payload = Submission {
                        request_id: request_id.clone(),
                        petition: Some(proto::Petition {
                            channel: 0,
                            source: None,
                            ..sample::petition(index)
                        }),
                    }
                    .encode_to_vec();
                    if let Ok(mut sent) = sent.lock() {
                        sent.insert(request_id, Instant::now());
                    }
                    acks.push(
                        jetstream
                            .publish(submission_subject("online", SYSTEM), payload.into())
                            .await?,
                    );
                }
                for ack in acks {
                    ack.await.context("queue a submission")?;
                }
            }
            anyhow::Ok(())
        })
    };
    let mut latencies = Vec::with_capacity(submissions);
    while latencies.len() < submissions {
        let message = tokio::time::timeout(Duration::from_secs(120), receipts.next())
            .await
            .with_context(|| {
                format!(
                    "{} of {submissions} receipts, then none for 120 s",
                    latencies.len()
                )
            })?
            .context("the receipt subscription ended")?;
        let received = Instant::now();
        let receipt = SubmissionReceipt::decode(message.payload)?;
        if !matches!(receipt.outcome, Some(Outcome::Accepted(_))) {
            anyhow::bail!(
                "submission {} not registered: {:?}",
                receipt.request_id,
                receipt.outcome
            );
        }
        let published = sent
            .lock()
            .map_err(|_| anyhow::anyhow!("the send table is poisoned"))?
            .remove(&receipt.request_id);
        if let Some(published) = published {
            latencies.push(received - published);
        }
    }
    let elapsed = started.elapsed();
    publishing.await??;
    Ok(SurgeRun {
        replicas,
        submissions,
        elapsed,
        receipts: latencies,
    })
}

/// A UUID of its own for each index.
fn request_id(index: usize) -> String {
    let hex = format!("{:032x}", (index as u128) | (0xbe4c << 112));
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
