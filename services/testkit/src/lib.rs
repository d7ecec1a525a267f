//! Real servers for tests: a nats-server per test on a free port with its own JetStream
//! store, and a fresh PostgreSQL database (or SQLite file) per test. Nothing is mocked.
//!
//! The nats-server binary comes from `XINFANG_NATS_SERVER` (the Makefile sets it) or the
//! project's tool folder; PostgreSQL from `XINFANG_TEST_DATABASE_URL` or 127.0.0.1:5432.

pub mod auth;
mod database;
mod nats;
mod private_postgres;
pub mod sample;
mod stack;
mod streams;

pub use database::TestDatabase;
pub use nats::NatsServer;
pub use private_postgres::PrivatePostgres;
pub use stack::{Backend, Stack, StackOptions, Svc};
pub use streams::{PATIENCE, eventually, stored_messages, stray_event_headers};
