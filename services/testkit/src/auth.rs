//! Tokens for tests: signed with a secret only tests use, for the dev issuer and audience
//! the services default to.

use std::time::Duration;

use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use xinfang_platform::auth::token::{Claims, expiry_in, mint_hs256};
use xinfang_platform::auth::{BearerToken, Role};

/// The HS256 secret of every test stack. Never a production key.
pub const TEST_SECRET: &str = "xinfang-test-secret-not-for-production";
pub const ISSUER: &str = "xinfang-dev";
pub const AUDIENCE: &str = "xinfang";

/// A client channel that sends this token with every call.
pub type Authed = InterceptedService<Channel, BearerToken>;

pub fn claims(roles: &[Role], units: &[&str]) -> Claims {
    Claims {
        sub: format!(
            "test-{}",
            roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join("-")
        ),
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        exp: expiry_in(Duration::from_secs(3600)),
        roles: roles.iter().map(|role| role.as_str().to_owned()).collect(),
        units: units.iter().map(|unit| (*unit).to_owned()).collect(),
    }
}

/// A service's own identity: role `service`, subject its name.
pub fn service_claims(service: &str) -> Claims {
    Claims {
        sub: service.to_owned(),
        roles: vec![Role::Service.as_str().to_owned()],
        units: Vec::new(),
        ..claims(&[], &[])
    }
}

/// A valid token for these roles and units.
pub fn token(roles: &[Role], units: &[&str]) -> String {
    sign(&claims(roles, units))
}

pub fn sign(claims: &Claims) -> String {
    mint_hs256(TEST_SECRET.as_bytes(), claims).expect("a token")
}

/// A lazily connecting channel to `url` that sends `token`.
pub fn authed(url: &str, token: &str) -> Authed {
    let channel = Channel::from_shared(url.to_owned())
        .expect("a valid URL")
        .connect_lazy();
    InterceptedService::new(channel, BearerToken::new(token).expect("an ASCII token"))
}

/// Writes the test secret to a file in `folder`, for XINFANG_AUTH_HS256_SECRET_FILE.
pub fn write_secret(folder: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    let path = folder.join("hs256.secret");
    std::fs::write(&path, TEST_SECRET)?;
    Ok(path)
}
