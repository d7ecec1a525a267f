//! Connecting to a service as someone: every call carries the caller's bearer token.

use anyhow::{Context, bail};
use clap::Args;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use xinfang_platform::auth::BearerToken;

/// A channel whose calls carry the caller's token.
pub type Authed = InterceptedService<Channel, BearerToken>;

#[derive(Args, Clone)]
pub struct Token {
    /// Your bearer token (JWT). `make run` writes one per role under .data/tokens/.
    #[arg(long, env = "XINFANG_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

pub async fn channel(url: &str, service: &str, token: &Token) -> anyhow::Result<Authed> {
    let Some(token) = token.token.as_deref() else {
        bail!(
            "no token: set XINFANG_TOKEN or pass --token (make run writes one per role under .data/tokens/)"
        );
    };
    let channel = Channel::from_shared(url.to_owned())
        .with_context(|| format!("{service} URL {url:?}"))?
        .connect()
        .await
        .with_context(|| format!("connect to {service} at {url}"))?;
    let bearer = BearerToken::new(token).context("the token is not printable ASCII")?;
    Ok(InterceptedService::new(channel, bearer))
}
