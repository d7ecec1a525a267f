//! One service calling another with its own identity: a bearer token the city's identity
//! provider issued to the service (role `service`, subject the service's name), read from a
//! file at each call so that it can be rotated under a running service (a Kubernetes
//! Secret's mounted file). The callee checks it like any caller's, and audits the call.

use std::path::PathBuf;

use tonic::Status;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::auth::BearerToken;

/// A channel whose calls carry the calling service's token.
pub type ServiceChannel = InterceptedService<Channel, BearerToken>;

#[derive(Debug, Clone, clap::Args)]
pub struct ServiceIdentity {
    /// A file holding the token this service presents when it calls another service (a JWT
    /// with the role `service`); read at each call. `make run` writes one per service.
    #[arg(long, env = "XINFANG_SERVICE_TOKEN_FILE")]
    pub service_token_file: Option<PathBuf>,
}

/// Another service, reached lazily: no connection until the first call, so a service
/// starts while the other is still starting.
#[derive(Clone)]
pub struct Callee {
    name: &'static str,
    endpoint: Endpoint,
    channel: Channel,
    identity: ServiceIdentity,
}

impl Callee {
    pub fn new(
        name: &'static str,
        url: &str,
        identity: ServiceIdentity,
    ) -> Result<Self, tonic::transport::Error> {
        let endpoint = Endpoint::from_shared(url.to_owned())?
            .connect_timeout(std::time::Duration::from_secs(3))
            .timeout(std::time::Duration::from_secs(10));
        let channel = endpoint.connect_lazy();
        Ok(Self {
            name,
            endpoint,
            channel,
            identity,
        })
    }

    /// The channel for one call, with the token as the file now holds it. An unreadable
    /// token is UNAVAILABLE: the call may pass once the operator mounts it.
    pub fn channel(&self) -> Result<ServiceChannel, Status> {
        let Some(path) = &self.identity.service_token_file else {
            tracing::error!(
                callee = self.name,
                "no XINFANG_SERVICE_TOKEN_FILE: cannot call another service"
            );
            return Err(Status::unavailable(format!(
                "this service has no identity to call {} with (XINFANG_SERVICE_TOKEN_FILE)",
                self.name
            )));
        };
        let token = std::fs::read_to_string(path).map_err(|error| {
            tracing::error!(path = %path.display(), error = %error, "read the service token");
            Status::unavailable(format!(
                "the service token for calling {} cannot be read",
                self.name
            ))
        })?;
        let bearer = BearerToken::new(&token).map_err(|_| {
            tracing::error!(path = %path.display(), "the service token is not printable ASCII");
            Status::unavailable(format!(
                "the service token for calling {} is malformed",
                self.name
            ))
        })?;
        Ok(InterceptedService::new(self.channel.clone(), bearer))
    }

    pub fn url(&self) -> String {
        self.endpoint.uri().to_string()
    }
}
