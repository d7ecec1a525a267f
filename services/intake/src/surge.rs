//! The surge channel's desk: registers what external systems queued on NATS, from the one
//! durable consumer every replica shares (more replicas, more registrations at once), and
//! answers each sender on its receipt subject. A submission leaves the queue (a work queue)
//! only once answered; while the database is away it stays, and is delivered again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures::{FutureExt, StreamExt};
use prost::Message;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use xinfang_platform::auth::{AuditLog, Authorized, Caller, Role, Scope};
use xinfang_platform::grpc::FieldViolation;
use xinfang_platform::write::WritePath;
use xinfang_proto::intake::v1::{Submission, SubmissionReceipt};
use xinfang_proto::subjects::{self, INTAKE_TAKES_SUBMISSIONS, SUBMISSION_STREAM};

use crate::answer::{self, AnswerError};
use crate::register::{RegisterError, Registrar, Registration, register};
use crate::submission::{self, Sender};

/// Long enough for a registration held up behind a busy database; a replica that died
/// with submissions in hand has them delivered elsewhere this much later.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// When the database cannot register now: try the submission again this much later.
const RETRY_DELAY: Duration = Duration::from_secs(2);
/// While a submission is in hand, how often the broker is told it is still being worked
/// on, so that a slow registration is not delivered to another replica meanwhile.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

pub struct SubmissionDesk {
    pub write: WritePath,
    pub registrar: Registrar,
    pub audit: AuditLog,
    pub client: async_nats::Client,
}

impl Outcome {
    fn retry(error: &sea_orm::DbErr) -> Self {
        Outcome::Retry {
            reason: error.to_string(),
            unavailable: xinfang_platform::database::is_unavailable(error),
        }
    }
}

/// What became of one submission.
enum Outcome {
    /// Answer the sender, and the submission leaves the queue.
    Answer(SubmissionReceipt),
    /// Not now (the database): leave it queued for another try; `unavailable` when the
    /// database cannot be reached at all, and the desk should wait before taking more.
    Retry { reason: String, unavailable: bool },
}

/// Takes submissions until `stop`, `concurrency` at a time; the ones in hand are finished
/// first, the prefetched ones handed back at once.
pub async fn run(
    desk: Arc<SubmissionDesk>,
    jetstream: jetstream::Context,
    concurrency: usize,
    stop: CancellationToken,
) -> Result<(), String> {
    let stream = loop {
        match jetstream.get_stream(SUBMISSION_STREAM.name).await {
            Ok(stream) => break stream,
            Err(error) => {
                tracing::warn!(error = %error, "waiting for the submission queue");
                tokio::select! {
                    () = stop.cancelled() => return Ok(()),
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    };
    let consumer = stream
        .get_or_create_consumer(
            INTAKE_TAKES_SUBMISSIONS.name,
            pull::Config {
                durable_name: Some(INTAKE_TAKES_SUBMISSIONS.name.to_owned()),
                filter_subject: INTAKE_TAKES_SUBMISSIONS.filter.to_owned(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                // A submission is never given up on: it is answered, or it waits.
                max_deliver: -1,
                max_ack_pending: 10_000,
                ..Default::default()
            },
        )
        .await
        .map_err(|error| format!("create the submission consumer: {error}"))?;
    // Each submission on a task of its own: sealing, hashing and matching use every core.
    let mut in_hand = JoinSet::new();
    let mut messages: Option<pull::Stream> = None;
    let mut paused_until: Option<tokio::time::Instant> = None;
    loop {
        let Some(pulling) = messages.as_mut() else {
            match pull_messages(&consumer, concurrency).await {
                Ok(pulling) => messages = Some(pulling),
                Err(error) => {
                    tracing::warn!(%error, "pulling submissions failed; retrying");
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
            continue;
        };
        let paused = paused_until.is_some();
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            Some(taken) = in_hand.join_next(), if !in_hand.is_empty() => {
                // The database could not take one: take no more for a while, rather than
                // cycle every queued submission through it and back.
                if matches!(taken, Ok(Taken::Retried)) {
                    paused_until = Some(tokio::time::Instant::now() + RETRY_DELAY);
                }
            }
            () = sleep_until(paused_until), if paused => paused_until = None,
            next = pulling.next(), if in_hand.len() < concurrency && !paused => match next {
                Some(Ok(message)) => {
                    in_hand.spawn(take(desk.clone(), message));
                }
                Some(Err(error)) => tracing::warn!(error = %error, "pulling submissions failed; retrying"),
                None => messages = None,
            },
        }
    }
    while in_hand.join_next().await.is_some() {}
    let mut released = 0;
    if let Some(mut pulling) = messages {
        while let Some(Some(Ok(message))) = pulling.next().now_or_never() {
            let _ = message.ack_with(AckKind::Nak(None)).await;
            released += 1;
        }
    }
    let _ = desk.client.flush().await;
    tracing::info!(released, "submission desk stopped");
    Ok(())
}

async fn pull_messages(
    consumer: &jetstream::consumer::PullConsumer,
    concurrency: usize,
) -> Result<pull::Stream, String> {
    consumer
        .stream()
        .max_messages_per_batch(concurrency)
        .messages()
        .await
        .map_err(|error| format!("pull submissions: {error}"))
}

/// What became of a submission in hand, for the desk's pace.
enum Taken {
    Done,
    /// Left for another try: the database could not take it.
    Retried,
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline).await;
    }
}

/// One submission: registered and answered, or left for another try.
async fn take(desk: Arc<SubmissionDesk>, message: jetstream::Message) -> Taken {
    let started = Instant::now();
    let Some(sender) = Sender::of_subject(&message.subject) else {
        // Nobody to answer: only an operator can publish such a subject.
        tracing::warn!(subject = %message.subject, "a submission on a subject naming no system; dropped");
        let _ = message.ack_with(AckKind::Term).await;
        return Taken::Done;
    };
    let registering = desk.register(&sender, &message.payload);
    tokio::pin!(registering);
    let mut progress =
        tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    let (request_id, outcome) = loop {
        tokio::select! {
            done = &mut registering => break done,
            _ = progress.tick() => {
                let _ = message.ack_with(AckKind::Progress).await;
            }
        }
    };
    match outcome {
        Outcome::Answer(receipt) => {
            let accepted = matches!(
                receipt.outcome,
                Some(xinfang_proto::intake::v1::submission_receipt::Outcome::Accepted(_))
            );
            // Acknowledged first, answered after: an answer always belongs to the delivery
            // that took the submission off the queue. Were it the other way round, a
            // delivery whose acknowledgement was lost would come again, and its answer
            // (a new query code) would void the code the sender already holds.
            if let Err(error) = message.double_ack().await {
                tracing::warn!(error = %error, "a submission's acknowledgement was not confirmed; its redelivery is answered instead");
                return Taken::Done;
            }
            let subject =
                subjects::receipt_subject(&sender.system, submission::receipt_token(&request_id));
            if let Err(error) = desk
                .client
                .publish(subject, receipt.encode_to_vec().into())
                .await
            {
                // The sender asks again with the same request id; registration is not undone.
                tracing::warn!(error = %error, "a receipt could not be sent");
            }
            let outcome = if accepted { "registered" } else { "rejected" };
            metrics::counter!("xinfang_submissions_total", "outcome" => outcome).increment(1);
            metrics::histogram!("xinfang_submission_seconds").record(started.elapsed());
        }
        Outcome::Retry {
            reason,
            unavailable,
        } => {
            tracing::warn!(system = %sender.system, %reason, "a submission waits for another try");
            metrics::counter!("xinfang_submissions_total", "outcome" => "retried").increment(1);
            let _ = message.ack_with(AckKind::Nak(Some(RETRY_DELAY))).await;
            // One submission the database refuses must not slow the others; a database
            // that cannot be reached stops the desk for a while.
            if unavailable {
                return Taken::Retried;
            }
        }
    }
    Taken::Done
}

impl SubmissionDesk {
    /// The request id as sent (for the receipt's subject), and what became of it.
    async fn register(&self, sender: &Sender, payload: &[u8]) -> (String, Outcome) {
        let submission = match Submission::decode(payload) {
            Ok(submission) => submission,
            Err(error) => {
                let problem = FieldViolation::new(
                    "submission",
                    format!("not a xinfang.intake.v1.Submission (protobuf): {error}"),
                );
                return (
                    String::new(),
                    Outcome::Answer(submission::rejected("", &[problem])),
                );
            }
        };
        let request_id = submission.request_id.clone();
        let outcome = self.register_submission(sender, submission).await;
        (request_id, outcome)
    }

    async fn register_submission(&self, sender: &Sender, submission: Submission) -> Outcome {
        let request_id = submission.request_id.as_str();
        let reject = |problems: &[FieldViolation]| {
            Outcome::Answer(submission::rejected(request_id, problems))
        };
        let Some(channel) = sender.channel() else {
            return reject(&[FieldViolation::new(
                "subject",
                format!("{:?} is not a channel", sender.channel_token),
            )]);
        };
        let mut petition = submission.petition.clone().unwrap_or_default();
        let mut problems = submission::fit_to_channel(channel, &mut petition);
        let petition = submission.petition.as_ref().map(|_| &petition);
        let keys = &self.registrar.keys;
        let registration =
            Registration::parse(request_id, petition, Ok(None), self.write.clock.now(), keys);
        let registration = match registration {
            Ok(registration) if problems.is_empty() => registration,
            Ok(_) => return reject(&problems),
            Err(more) => {
                problems.extend(more);
                return reject(&problems);
            }
        };
        let registering = Authorized::acting(
            Caller {
                subject: sender.system.clone(),
                roles: vec![Role::Service],
                units: Vec::new(),
            },
            subjects::submission_subject(&sender.channel_token, &sender.system),
            Scope::All,
            self.audit.clone(),
        );
        let registered = match register(
            &self.write,
            &self.registrar,
            registration,
            registering.clone(),
        )
        .await
        {
            Ok(registered) => registered,
            Err(RegisterError::RequestIdReused(_)) => {
                return reject(&[FieldViolation::new(
                    "request_id",
                    "was already used for a different petition; use a new request_id",
                )]);
            }
            Err(RegisterError::Database(error)) => return Outcome::retry(&error),
        };
        let query_code =
            match answer::query_code(&self.write, keys, &registered, &registering).await {
                Ok(code) => code,
                Err(AnswerError::Register(RegisterError::Database(error))) => {
                    return Outcome::retry(&error);
                }
                Err(AnswerError::Register(error)) => {
                    return Outcome::Retry {
                        reason: error.to_string(),
                        unavailable: false,
                    };
                }
                Err(AnswerError::Audit(status)) => {
                    return Outcome::Retry {
                        reason: status.message().to_owned(),
                        unavailable: true,
                    };
                }
            };
        // A system faces the petitioner: it learns that related cases exist, never which.
        let notices = answer::notices(&self.write, keys, &registered, false).await;
        Outcome::Answer(submission::accepted(
            request_id,
            registered.petition.case_id.to_string(),
            registered.petition.case_number.clone(),
            query_code,
            notices,
        ))
    }
}
