//! Applying a batch of events in one transaction: each through the write path, each
//! recorded in the inbox, one commit for all.
//!
//! Events apply in stream order. When one fails, the transaction is rolled back and the
//! batch applied again without it — and without the later events of its case, which must
//! not overtake it — so one bad event never holds up the others.

use std::collections::HashSet;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};
use time::OffsetDateTime;
use tracing::Instrument;
use uuid::Uuid;

use super::{Failure, Handler, inbox};
use crate::envelope::Envelope;
use crate::outbox::OutgoingEvent;
use crate::write;

/// A decoded event waiting in a batch, with the span its work is traced under.
pub struct Item<E> {
    pub envelope: Envelope,
    pub event: E,
    pub span: tracing::Span,
}

impl<E> Item<E> {
    /// The span continues the trace the event was published in.
    pub fn new(consumer: &str, envelope: Envelope, event: E) -> Self {
        let span = tracing::info_span!(
            "consume",
            consumer = %consumer,
            event = %envelope.event_type,
            case = %envelope.case_id
        );
        crate::telemetry::continue_trace(&span, envelope.traceparent.as_deref());
        Self {
            envelope,
            event,
            span,
        }
    }
}

/// What became of one event of the batch.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Applied and committed, causing these events.
    Applied(Vec<OutgoingEvent>),
    /// Its id was in the inbox: applied before, nothing done.
    Duplicate,
    /// Not applied, for this reason.
    Failed(Failure),
    /// Not applied because an earlier event of its case failed (for this reason).
    Deferred(Failure),
}

/// Applies `items` in one transaction and says what became of each. An error means
/// nothing was applied (the database is unreachable, or the batch could not settle).
pub async fn apply<H: Handler>(
    db: &DatabaseConnection,
    consumer: &str,
    handler: &H,
    items: &[Item<H::Event>],
    now: OffsetDateTime,
) -> Result<Vec<Verdict>, Failure> {
    let mut settled: Vec<Option<Verdict>> = vec![None; items.len()];
    // Each attempt either commits or sets one more event aside; a lost race with another
    // replica repeats the attempt, a few times at most.
    for _ in 0..items.len() + 3 {
        let transaction = db.begin().await?;
        let ids: Vec<Uuid> = items.iter().map(|item| item.envelope.event_id).collect();
        let before: HashSet<Uuid> = inbox::Entity::find()
            .select_only()
            .column(inbox::Column::EventId)
            .filter(inbox::Column::Consumer.eq(consumer))
            .filter(inbox::Column::EventId.is_in(ids))
            .into_tuple::<Uuid>()
            .all(&transaction)
            .await?
            .into_iter()
            .collect();
        let mut seen = HashSet::new();
        let mut outcome: Vec<Option<Verdict>> = settled.clone();
        let mut failed = None;
        for (index, item) in items.iter().enumerate() {
            if outcome[index].is_some() {
                continue;
            }
            let id = item.envelope.event_id;
            if before.contains(&id) || !seen.insert(id) {
                outcome[index] = Some(Verdict::Duplicate);
                continue;
            }
            let change = handler.change(&item.envelope, &item.event);
            match write::apply(&transaction, &change, now)
                .instrument(item.span.clone())
                .await
            {
                Ok(decided) => outcome[index] = Some(Verdict::Applied(decided.events)),
                Err(failure) => {
                    failed = Some((index, failure));
                    break;
                }
            }
        }
        if let Some((index, failure)) = failed {
            // A failed statement spoils the whole transaction on PostgreSQL.
            let _ = transaction.rollback().await;
            if let Failure::Unavailable(_) = failure {
                return Err(failure);
            }
            let case = items[index].envelope.case_id;
            for (later, item) in items.iter().enumerate().skip(index + 1) {
                if item.envelope.case_id == case && settled[later].is_none() {
                    settled[later] = Some(Verdict::Deferred(failure.clone()));
                }
            }
            settled[index] = Some(Verdict::Failed(failure));
            continue;
        }
        let applied: Vec<inbox::ActiveModel> = items
            .iter()
            .zip(&outcome)
            .filter(|(_, verdict)| matches!(verdict, Some(Verdict::Applied(_))))
            .map(|(item, _)| inbox::ActiveModel {
                consumer: Set(consumer.to_owned()),
                event_id: Set(item.envelope.event_id),
                applied_at: Set(now),
            })
            .collect();
        let expected = applied.len() as u64;
        if expected > 0 {
            let recorded = inbox::Entity::insert_many(applied)
                .on_conflict(
                    OnConflict::columns([inbox::Column::Consumer, inbox::Column::EventId])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&transaction)
                .await?;
            if recorded != expected {
                // Another replica applied some of these meanwhile: start again, and the
                // inbox will tell which.
                let _ = transaction.rollback().await;
                continue;
            }
        }
        transaction.commit().await?;
        return Ok(outcome
            .into_iter()
            .map(|verdict| verdict.unwrap_or(Verdict::Duplicate))
            .collect());
    }
    Err(Failure::Transient(
        "the batch did not settle; it will be delivered again".into(),
    ))
}
