//! Intake against a real nats-server and a real database (PostgreSQL, and SQLite where the
//! embedded default must behave the same).

mod intake {
    pub mod support;

    mod broker_outage;
    mod corrections;
    mod database_restart;
    mod desk;
    mod identity;
    mod invalid_petitions;
    mod links;
    mod mutual_tls;
    mod readiness;
    mod reflection;
    mod registration;
    mod relations;
    mod search;
    mod surge;
    mod tokens;
    mod visits;
}
