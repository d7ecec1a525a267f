//! The one transactional write path every state change takes, whether a gRPC command
//! asked for it or an event caused it: begin → load → decide → save → stage the caused
//! events in the outbox → commit → hint the relay.
//!
//! A service describes a change as a [`Change`]: what it reads ([`Change::load`]), what it
//! decides from that state, the command and the time ([`Change::decide`], pure), and how
//! the decision is written ([`Change::save`]). [`WritePath::execute`] runs one change in
//! its own transaction and answers only after the commit; the consumer loop runs a batch
//! of changes through [`apply`] in one transaction of its own.

use std::future::Future;
use std::sync::Arc;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use time::OffsetDateTime;

use crate::outbox::{self, OutboxHandle, OutgoingEvent};

/// What a change decided: the outcome to save (and to answer with), and the events it
/// causes.
#[derive(Debug)]
pub struct Decided<O> {
    pub outcome: O,
    pub events: Vec<OutgoingEvent>,
}

impl<O> Decided<O> {
    /// An outcome that causes no event.
    pub fn quietly(outcome: O) -> Self {
        Self {
            outcome,
            events: Vec::new(),
        }
    }
}

/// One state change, in three steps so that the rule in the middle can be tested without
/// a database.
pub trait Change: Send + Sync {
    /// What the decision needs to know, read inside the transaction.
    type State: Send;
    /// What was decided: written by [`Change::save`], then returned to the caller.
    type Outcome: Send;
    type Error: From<DbErr> + Send;

    fn load(
        &self,
        transaction: &DatabaseTransaction,
    ) -> impl Future<Output = Result<Self::State, Self::Error>> + Send;

    /// The rule: a pure function of the state, the change asked for and the time.
    fn decide(
        &self,
        state: Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, Self::Error>;

    fn save(
        &self,
        transaction: &DatabaseTransaction,
        outcome: &Self::Outcome,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Loads, decides, saves and stages the caused events inside `transaction`; the caller
/// commits.
pub async fn apply<C: Change>(
    transaction: &DatabaseTransaction,
    change: &C,
    now: OffsetDateTime,
) -> Result<Decided<C::Outcome>, C::Error> {
    let state = change.load(transaction).await?;
    let decided = change.decide(state, now)?;
    change.save(transaction, &decided.outcome).await?;
    outbox::stage(transaction, &decided.events).await?;
    Ok(decided)
}

/// Where the time comes from: the system clock, or one a test sets.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> OffsetDateTime + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(OffsetDateTime::now_utc))
    }

    /// A clock that reads `now` from the given function (a test's adjustable time).
    pub fn from_fn(now: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// The current time as it is stored ([`crate::wire::stored`]): UTC, to the microsecond.
    pub fn now(&self) -> OffsetDateTime {
        crate::wire::stored((self.0)())
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// Runs commands: one transaction per change, the caller answered after the commit, the
/// caused events handed to the relay at once.
#[derive(Debug, Clone)]
pub struct WritePath {
    pub db: DatabaseConnection,
    pub outbox: OutboxHandle,
    pub clock: Clock,
}

impl WritePath {
    pub async fn execute<C: Change>(&self, change: C) -> Result<C::Outcome, C::Error> {
        self.execute_at(change, self.clock.now()).await
    }

    /// As [`WritePath::execute`], at a time the caller read from the clock before.
    pub async fn execute_at<C: Change>(
        &self,
        change: C,
        now: OffsetDateTime,
    ) -> Result<C::Outcome, C::Error> {
        let transaction = self.db.begin().await?;
        let decided = apply(&transaction, &change, now).await?;
        transaction.commit().await?;
        self.outbox.committed(decided.events);
        Ok(decided.outcome)
    }
}
