//! Supervision in-process, as replicas sharing one database, against a real nats-server and
//! PostgreSQL, with the time moved by the test.

mod calendar;
mod oversight;
mod receptions;
mod support;
mod timers;
mod upgrade;
