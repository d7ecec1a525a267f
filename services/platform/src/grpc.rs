//! The gRPC server every service runs: health (grpc.health.v1) and reflection (v1 and
//! v1alpha) beside
//! the service's own API, and one way to say "these fields are wrong".

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::{Router, TcpIncoming};
use tonic::transport::{Certificate, ServerTlsConfig};
use tonic::{Code, Status};
use tonic_health::server::HealthReporter;
use tower::layer::util::{Identity, Stack};

use crate::auth::AuthLayer;
use tonic_types::{ErrorDetails, StatusExt};

/// How many calls one connection may have in flight; more wait their turn.
pub const MAX_CALLS_PER_CONNECTION: usize = 256;
/// How long a call may take before the server gives up on it (a query the database cannot
/// answer, a client that stopped reading).
pub const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The largest request a service decodes. Petitions are text; attachments travel
/// separately. A larger request is refused with OUT_OF_RANGE before it is decoded.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// One wrong field of a request: which (a path such as `petition.petitioner.phone`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// INVALID_ARGUMENT with a `google.rpc.BadRequest` detail listing every violation, so a
/// form can mark each wrong field at once.
pub fn invalid_argument(violations: &[FieldViolation]) -> Status {
    let mut details = ErrorDetails::new();
    for violation in violations {
        details.add_bad_request_violation(violation.field.clone(), violation.description.clone());
    }
    // The message says what is wrong too: not every client decodes the details.
    let fields: Vec<String> = violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect();
    Status::with_error_details(
        Code::InvalidArgument,
        format!("invalid fields: {}", fields.join("; ")),
        details,
    )
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("build the gRPC reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("configure TLS: {0}")]
    Tls(#[from] tonic::transport::Error),
    #[error("read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// The server's TLS settings from files, or `None` when TLS is off.
pub fn tls_config(
    config: &crate::config::TlsConfig,
) -> Result<Option<ServerTlsConfig>, ServerError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|source| ServerError::Read {
            path: path.display().to_string(),
            source,
        })
    };
    let (Some(cert), Some(key)) = (&config.cert_file, &config.key_file) else {
        return Ok(None);
    };
    let mut tls = ServerTlsConfig::new().identity(tonic::transport::Identity::from_pem(
        read(cert)?,
        read(key)?,
    ));
    if let Some(ca) = &config.client_ca_file {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(Some(tls))
}

/// The router every service serves: the authorisation layer in front of every handler.
pub type GrpcRouter = Router<Stack<AuthLayer, Identity>>;

/// A server with health and reflection already added, every call passing `auth` first; the
/// service adds its own API and marks it serving on the returned reporter.
pub fn server_with_health_and_reflection(
    auth: AuthLayer,
    tls: Option<ServerTlsConfig>,
) -> Result<(GrpcRouter, HealthReporter), ServerError> {
    let (reporter, health) = tonic_health::server::health_reporter();
    // v1 for current clients (buf curl, grpcurl), v1alpha for those that speak only it
    // (Python's grpcio-reflection, older grpcurl).
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(xinfang_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;
    let mut builder = tonic::transport::Server::builder()
        .concurrency_limit_per_connection(MAX_CALLS_PER_CONNECTION)
        .timeout(CALL_TIMEOUT);
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    let router = builder
        .trace_fn(|request| {
            // A call joins the caller's trace when it sends a traceparent.
            let span = tracing::info_span!("grpc", path = %request.uri().path());
            let traceparent = request
                .headers()
                .get(crate::envelope::TRACEPARENT)
                .and_then(|value| value.to_str().ok());
            crate::telemetry::continue_trace(&span, traceparent);
            span
        })
        .layer(auth)
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    Ok((router, reporter))
}

/// Binds the gRPC address; port 0 picks a free port (tests read it back from the listener).
pub async fn bind(address: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(address).await?;
    let bound = listener.local_addr()?;
    Ok((listener, bound))
}

/// Serves until `shutdown`, then stops taking calls and lets those in flight finish.
pub async fn serve(
    router: GrpcRouter,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), tonic::transport::Error> {
    // Without TCP_NODELAY a small answer waits for the caller's delayed ACK: about 40 ms
    // added to every call (measured: 43 ms per registration with one client).
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    router
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await
}

/// Page size when a List call names none.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// The largest page a List call returns, whatever it asks.
pub const MAX_PAGE_SIZE: u64 = 500;

/// Reads a List call's `page_size` (AIP-158): 0 means the default, more than the maximum is
/// capped, a negative size is refused.
pub fn page_size(requested: i32) -> Result<u64, FieldViolation> {
    match u64::try_from(requested) {
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(size) => Ok(size.min(MAX_PAGE_SIZE)),
        Err(_) => Err(FieldViolation::new("page_size", "must not be negative")),
    }
}

/// An opaque page token that refers to the last key of the previous page.
pub fn parse_page_token<T: std::str::FromStr>(token: &str) -> Result<Option<T>, FieldViolation> {
    if token.is_empty() {
        return Ok(None);
    }
    token.parse().map(Some).map_err(|_| {
        FieldViolation::new(
            "page_token",
            "is not a token this service gave out; start again with an empty one",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_defaults_caps_and_refuses_negatives() {
        assert_eq!(page_size(0), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(7), Ok(7));
        assert_eq!(page_size(10_000), Ok(MAX_PAGE_SIZE));
        assert_eq!(
            page_size(-1),
            Err(FieldViolation::new("page_size", "must not be negative"))
        );
    }
}

/// What a read-only query can fail with, mapped to status codes once for every service.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    /// The message names what was asked for.
    #[error("{0}")]
    NotFound(String),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl From<FieldViolation> for QueryError {
    fn from(violation: FieldViolation) -> Self {
        QueryError::InvalidArgument(vec![violation])
    }
}

impl From<QueryError> for Status {
    fn from(error: QueryError) -> Self {
        match error {
            QueryError::InvalidArgument(violations) => invalid_argument(&violations),
            QueryError::NotFound(what) => Status::not_found(what),
            QueryError::Database(error) => {
                tracing::error!(error = %error, "database error");
                Status::unavailable("the service's database is unavailable; retry")
            }
        }
    }
}

/// Cuts a page fetched with one row too many and returns the next page's token (the last
/// row's key), or an empty token on the last page.
pub fn next_page<T>(rows: &mut Vec<T>, page_size: u64, key: impl Fn(&T) -> String) -> String {
    if rows.len() as u64 > page_size {
        rows.truncate(usize::try_from(page_size).unwrap_or(usize::MAX));
        rows.last().map(key).unwrap_or_default()
    } else {
        String::new()
    }
}
