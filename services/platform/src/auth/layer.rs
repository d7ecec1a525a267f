//! The layer in front of every handler: authenticates the bearer token, looks the RPC up
//! in the policy, and either refuses the call or hands the handler an [`Authorized`].

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::Status;
use tower::{Layer, Service};

use super::policy::decide;
use super::token::{TokenError, TokenVerifier};
use super::{AuditLog, Authorized};

/// Calls anyone may make: probes and schema discovery carry no case data.
const PUBLIC_PREFIXES: [&str; 3] = [
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

struct Gate {
    verifier: TokenVerifier,
    audit: AuditLog,
}

#[derive(Clone)]
pub struct AuthLayer {
    gate: Arc<Gate>,
}

impl AuthLayer {
    pub fn new(verifier: TokenVerifier, audit: AuditLog) -> Self {
        Self {
            gate: Arc::new(Gate { verifier, audit }),
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            gate: self.gate.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    gate: Arc<Gate>,
}

impl Gate {
    /// `Ok(None)`: a public call. `Ok(Some)`: may proceed. `Err`: the refusal to send.
    async fn admit(
        &self,
        path: &str,
        headers: &http::HeaderMap,
    ) -> Result<Option<Authorized>, Status> {
        if PUBLIC_PREFIXES
            .iter()
            .any(|prefix| path.starts_with(prefix))
        {
            return Ok(None);
        }
        let token = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(TokenError::Missing)
            .map_err(unauthenticated)?;
        let caller = self
            .verifier
            .verify(token.trim())
            .await
            .map_err(unauthenticated)?;
        let rpc = path.trim_start_matches('/').to_owned();
        let Some(scope) = decide(&rpc, &caller) else {
            let roles: Vec<&str> = caller.roles.iter().map(|role| role.as_str()).collect();
            if let Err(error) = self
                .audit
                .record(&caller, &rpc, None, false, "role not allowed")
                .await
            {
                tracing::error!(error = %error, "audit entry not written");
                return Err(Status::unavailable("the audit log is unavailable; retry"));
            }
            return Err(Status::permission_denied(format!(
                "{caller} (roles: {}) may not call {rpc}",
                roles.join(", ")
            )));
        };
        Ok(Some(Authorized {
            caller,
            rpc,
            scope,
            audit: self.audit.clone(),
        }))
    }
}

fn unauthenticated(error: TokenError) -> Status {
    Status::unauthenticated(error.to_string())
}

impl<S, B> Service<http::Request<B>> for AuthService<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone that was made ready is the one to call (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gate = self.gate.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            match gate.admit(&path, request.headers()).await {
                Ok(Some(authorized)) => {
                    request.extensions_mut().insert(authorized);
                    inner.call(request).await
                }
                Ok(None) => inner.call(request).await,
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}
