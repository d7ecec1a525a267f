//! End-to-end scenarios: the four service binaries as separate processes, a real
//! nats-server with `sync_interval: always`, and a real database per service. `make test`
//! builds the binaries first.

mod access;
mod accusations;
mod chaos;
mod corrections;
mod crashes;
mod department_feeds;
mod directory;
mod drain;
mod figures;
mod first_contact;
mod lifecycle;
mod limits;
mod load;
mod one_petition;
mod poison;
mod recusal;
mod routing_by_hand;
mod seed;
mod support;
mod surge_channel;
mod upstreams;
