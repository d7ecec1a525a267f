//! The load: clients submitting petitions while faults are injected, each retrying with the
//! same request id until it is answered, as the API asks, and writing every acceptance in
//! the ledger.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use xinfang_platform::auth::Role;
use xinfang_proto::intake::v1::intake_service_client::IntakeServiceClient;
use xinfang_testkit::{Stack, Svc, auth, sample};

use crate::ledger::Ledger;

/// How long a client keeps retrying one petition before it reports it unanswered.
const PATIENCE: Duration = Duration::from_secs(600);

/// Clients at work; [`Load::stop`] lets each finish the petition in hand.
pub struct Load {
    stop: CancellationToken,
    clients: Vec<JoinHandle<()>>,
    /// Answers a client could not act on: refused, or never answered within the patience.
    pub failures: Arc<AtomicU64>,
}

impl Load {
    /// `clients` clients, each submitting one petition every `pause`.
    pub fn start(stack: &Stack, ledger: Arc<Ledger>, clients: usize, pause: Duration) -> Self {
        let stop = CancellationToken::new();
        let failures = Arc::new(AtomicU64::new(0));
        let token = auth::token(&[Role::Registrar], &[]);
        let clients = (0..clients)
            .map(|client| {
                let channel = auth::authed(&stack.grpc_url(Svc::Intake), &token);
                let (ledger, stop, failures) = (ledger.clone(), stop.clone(), failures.clone());
                tokio::spawn(async move {
                    let mut intake = IntakeServiceClient::new(channel);
                    let mut index = client * 1_000_000;
                    while !stop.is_cancelled() {
                        if !submit(&mut intake, index, &ledger).await {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                        index += 1;
                        tokio::time::sleep(pause).await;
                    }
                })
            })
            .collect();
        Self {
            stop,
            clients,
            failures,
        }
    }

    pub async fn stop(self) -> u64 {
        self.stop.cancel();
        for client in self.clients {
            let _ = client.await;
        }
        self.failures.load(Ordering::Relaxed)
    }
}

/// One petition, retried with its request id until answered. False when refused or never
/// answered.
async fn submit(
    intake: &mut IntakeServiceClient<auth::Authed>,
    index: usize,
    ledger: &Ledger,
) -> bool {
    let request = sample::create(index);
    let Ok(request_id) = Uuid::parse_str(&request.request_id) else {
        return false;
    };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut call = tonic::Request::new(request.clone());
        call.set_timeout(Duration::from_secs(15));
        match intake.create_petition(call).await {
            Ok(answer) => {
                let petition = answer.into_inner();
                return match Uuid::parse_str(&petition.case_id) {
                    Ok(case) => {
                        ledger.record(request_id, case);
                        true
                    }
                    Err(_) => false,
                };
            }
            Err(status)
                if matches!(
                    status.code(),
                    tonic::Code::Unavailable
                        | tonic::Code::Unknown
                        | tonic::Code::Cancelled
                        | tonic::Code::DeadlineExceeded
                ) && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => {
                eprintln!("petition {request_id} refused: {status:?}");
                return false;
            }
        }
    }
}
