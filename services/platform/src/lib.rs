//! Plumbing every Xinfang service shares, written once: configuration, the database
//! connection, NATS/JetStream streams, CloudEvents headers, the transactional outbox and its
//! relay, the gRPC server with health and reflection, telemetry and shutdown.
//!
//! No domain types live here: a service brings its own and hands this crate bytes,
//! subjects and case ids.

pub mod auth;
pub mod calls;
pub mod config;
pub mod consumer;
pub mod database;
pub mod department_feeds;
pub mod envelope;
pub mod grpc;
pub mod jetstream;
pub mod migrations;
pub mod nats_auth;
pub mod outbox;
pub mod readiness;
pub mod recusal;
pub mod sealing;
pub mod service;
pub mod shutdown;
pub mod telemetry;
pub mod wire;
pub mod write;
