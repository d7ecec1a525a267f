//! Supervision: each case's procedure and every legal clock on it.
//!
//! A case opens at registration ([`registered`]) with its forward clock, follows routing
//! ([`routed`], [`timeline`]), and then moves through its procedure by the actions units
//! and the bureau record ([`action`], [`record`]): the state machine of [`lifecycle`]
//! decides, the [`ledger`] keeps every clock, counted by the pure arithmetic of
//! [`deadlines`] over the official holiday calendar ([`calendar`]).

pub mod action;
pub mod api;
pub mod calendar;
pub mod calendars;
pub mod case_record;
pub mod config;
pub mod deadlines;
pub mod holidays;
pub mod leaders;
pub mod ledger;
pub mod letter_desk;
pub mod letters;
pub mod lifecycle;
pub mod migrations;
pub mod receptions;
pub mod record;
pub mod recusals;
pub mod registered;
pub mod routed;
pub mod store;
pub mod timeline;
pub mod timers;
pub mod upstreams;
pub mod view;
pub mod watch;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use xinfang_platform::consumer::ConsumerSpec;
use xinfang_platform::service::{RunningService, Service};
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::supervision_service_server::SupervisionServiceServer;

pub use config::Config;

use xinfang_platform::write::Clock;

use crate::api::SupervisionApi;
use crate::calendars::Calendars;
use crate::letter_desk::LetterDesk;
use crate::registered::FollowRegistration;
use crate::routed::{FollowRouting, SERVICE};
use crate::timers::Timers;
use xinfang_proto::codes::DirectoryCode;

/// How supervision takes routing decisions off routing's stream, for every unit.
pub fn routed_consumer() -> ConsumerSpec {
    ConsumerSpec::from_binding(subjects::SUPERVISION_TAKES_ROUTED)
}

/// How supervision takes registrations off intake's stream.
pub fn registered_consumer() -> ConsumerSpec {
    ConsumerSpec::from_binding(subjects::SUPERVISION_TAKES_REGISTERED)
}

pub async fn start(config: Config, shutdown: CancellationToken) -> anyhow::Result<RunningService> {
    start_with_clock(config, shutdown, Clock::system()).await
}

/// As [`start`], with the time read from `clock`: a test moves it to make deadlines pass.
pub async fn start_with_clock(
    config: Config,
    shutdown: CancellationToken,
    clock: Clock,
) -> anyhow::Result<RunningService> {
    let mut service = Service::connect::<migrations::Migrator>(
        SERVICE,
        &config.database_url,
        &config.platform,
        &[subjects::SUPERVISION_STREAM],
        shutdown,
    )
    .await?;
    service.clock = clock;
    DirectoryCode::parse(&config.bureau_code)
        .map_err(|why| anyhow::anyhow!("bureau code {:?} {why}", config.bureau_code))?;
    let calendar = holidays::stored_calendar(&service.db)
        .await
        .context("load the holiday calendar")?;
    tracing::info!(version = %calendar.version(), "holiday calendar loaded");
    let calendars = std::sync::Arc::new(Calendars::new(calendar));
    service.consume(
        registered_consumer(),
        FollowRegistration {
            calendars: calendars.clone(),
        },
    );
    service.consume(
        ConsumerSpec::from_binding(subjects::SUPERVISION_TAKES_LINKS),
        upstreams::FollowLinks {
            calendars: calendars.clone(),
        },
    );
    service.consume(
        routed_consumer(),
        FollowRouting {
            calendars: calendars.clone(),
            letters: config.letters.settings(),
        },
    );
    let letters = config.letters.settings();
    letters.check().map_err(anyhow::Error::msg)?;
    let timers = Timers {
        write: service.write_path(),
        calendars: calendars.clone(),
        settings: config.timers.settings(),
        letters: letters.clone(),
        bureau_code: config.bureau_code.clone(),
    };
    service.spawn_task("timers", |shutdown| timers.run(shutdown));
    let api = SupervisionApi {
        write: service.write_path(),
        calendars,
        bureau_code: config.bureau_code.clone(),
        letters: LetterDesk {
            write: service.write_path(),
            settings: letters,
        },
    };
    let (router, health) = service.grpc_server()?;
    service.report_readiness::<SupervisionServiceServer<SupervisionApi>>(health);
    let router = router.add_service(
        SupervisionServiceServer::new(api)
            .max_decoding_message_size(xinfang_platform::grpc::MAX_REQUEST_BYTES),
    );
    Ok(service.serve(router, config.grpc_listen).await?)
}

/// Runs supervision until `shutdown` is cancelled and everything in flight has finished.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let (database_url, platform) = (config.database_url.clone(), config.platform.clone());
    xinfang_platform::service::run::<migrations::Migrator, anyhow::Error, _, _>(
        SERVICE,
        &database_url,
        &platform,
        shutdown,
        |shutdown| start(config, shutdown),
    )
    .await
}
