//! Verifying bearer tokens (JWT) and, for local development, minting them.
//!
//! Keys come from one of: a static HS256 secret (`make run`, tests), a PEM public key
//! (RS256, ES256 or EdDSA) from a file or a Kubernetes secret, or the JWKS URL of a city's
//! identity provider, fetched at start and again when a token names a key not yet seen.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};

use xinfang_proto::codes::DirectoryCode;

use super::Caller;
use super::policy::Role;

/// The claims Xinfang reads. `roles` and `units` are its own; the rest are standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    /// One audience or several: identity providers send either (RFC 7519, 4.1.3).
    pub aud: Audience,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub units: Vec<String>,
}

/// A token's `aud`: a string, or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl From<&str> for Audience {
    fn from(audience: &str) -> Self {
        Audience::One(audience.to_owned())
    }
}

impl From<String> for Audience {
    fn from(audience: String) -> Self {
        Audience::One(audience)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("no bearer token: send `authorization: Bearer <token>`")]
    Missing,
    #[error("the token has expired")]
    Expired,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token is from another issuer")]
    WrongIssuer,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token names a key this service does not know")]
    UnknownKey,
    #[error("the token is malformed: {0}")]
    Malformed(String),
    #[error("the token names an unknown role: {0}")]
    UnknownRole(String),
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the key in {path} is not a PEM {algorithm:?} public key: {reason}")]
    Pem {
        path: String,
        algorithm: Algorithm,
        reason: String,
    },
    #[error("fetch the JWKS {url}: {reason}")]
    Jwks { url: String, reason: String },
    #[error(
        "no token keys configured: set XINFANG_AUTH_HS256_SECRET_FILE, XINFANG_AUTH_PUBLIC_KEY_FILE or XINFANG_AUTH_JWKS_URL"
    )]
    NoneConfigured,
    #[error(
        "more than one token key source configured: set only one of XINFANG_AUTH_HS256_SECRET_FILE, XINFANG_AUTH_PUBLIC_KEY_FILE, XINFANG_AUTH_JWKS_URL"
    )]
    Ambiguous,
}

enum Keys {
    Static {
        key: DecodingKey,
        algorithm: Algorithm,
    },
    Jwks {
        url: String,
        set: RwLock<JwkSet>,
        /// When the set was last fetched. Held while fetching, so concurrent misses share
        /// one fetch; a miss soon after a fetch does not fetch again.
        fetched: Mutex<Instant>,
    },
}

/// The shortest time between two fetches of the JWKS: a token naming an unknown key (a
/// rotation, or anyone sending random ids without a valid token) cannot make the service
/// fetch more often than this.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// Verifies tokens for one issuer and audience. Cheap to clone.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: Arc<Keys>,
    issuer: String,
    audience: String,
}

/// Algorithms a JWKS key may use: asymmetric only, so a public key can never be used as
/// an HMAC secret.
const JWKS_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

impl TokenVerifier {
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Self {
        Self::with(
            Keys::Static {
                key: DecodingKey::from_secret(secret),
                algorithm: Algorithm::HS256,
            },
            issuer,
            audience,
        )
    }

    pub fn hs256_file(path: &Path, issuer: &str, audience: &str) -> Result<Self, KeyError> {
        let secret = read(path)?;
        Ok(Self::hs256(trim_newline(&secret), issuer, audience))
    }

    /// A PEM public key of the given algorithm (RS256, PS256, ES256 or EdDSA).
    pub fn public_key_file(
        path: &Path,
        algorithm: Algorithm,
        issuer: &str,
        audience: &str,
    ) -> Result<Self, KeyError> {
        let pem = read(path)?;
        let key = match algorithm {
            Algorithm::RS256 | Algorithm::PS256 => DecodingKey::from_rsa_pem(&pem),
            Algorithm::ES256 => DecodingKey::from_ec_pem(&pem),
            Algorithm::EdDSA => DecodingKey::from_ed_pem(&pem),
            _ => {
                return Err(KeyError::Pem {
                    path: path.display().to_string(),
                    algorithm,
                    reason: "only RS256, PS256, ES256 and EdDSA public keys are accepted".into(),
                });
            }
        }
        .map_err(|error| KeyError::Pem {
            path: path.display().to_string(),
            algorithm,
            reason: error.to_string(),
        })?;
        Ok(Self::with(
            Keys::Static { key, algorithm },
            issuer,
            audience,
        ))
    }

    /// Fetches the identity provider's keys now; fails the start if they cannot be had.
    pub async fn jwks(url: &str, issuer: &str, audience: &str) -> Result<Self, KeyError> {
        let set = fetch_jwks(url).await?;
        Ok(Self::with(
            Keys::Jwks {
                url: url.to_owned(),
                set: RwLock::new(set),
                fetched: Mutex::new(Instant::now()),
            },
            issuer,
            audience,
        ))
    }

    fn with(keys: Keys, issuer: &str, audience: &str) -> Self {
        Self {
            keys: Arc::new(keys),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        }
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        validation
    }

    pub async fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        let claims = match self.keys.as_ref() {
            Keys::Static { key, algorithm } => check(token, key, &self.validation(*algorithm))?,
            Keys::Jwks { url, set, fetched } => {
                let header = decode_header(token)
                    .map_err(|error| TokenError::Malformed(error.to_string()))?;
                if !JWKS_ALGORITHMS.contains(&header.alg) {
                    return Err(TokenError::BadSignature);
                }
                let kid = header.kid.ok_or(TokenError::UnknownKey)?;
                let known = set.read().await.find(&kid).cloned();
                let jwk = match known {
                    Some(jwk) => jwk,
                    None => refetched(url, set, fetched, &kid).await?,
                };
                let key = DecodingKey::from_jwk(&jwk).map_err(|_| TokenError::UnknownKey)?;
                check(token, &key, &self.validation(header.alg))?
            }
        };
        let roles = claims
            .roles
            .iter()
            .map(|role| {
                role.parse::<Role>()
                    .map_err(|_| TokenError::UnknownRole(role.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Unit codes end up in queries (`LIKE '%/<unit>/%'`): only well-formed codes pass.
        if let Some(bad) = claims
            .units
            .iter()
            .find(|unit| DirectoryCode::parse(unit).is_err())
        {
            return Err(TokenError::Malformed(format!(
                "unit {bad:?} is not a unit code"
            )));
        }
        Ok(Caller {
            subject: claims.sub,
            roles,
            units: claims.units,
        })
    }
}

fn check(token: &str, key: &DecodingKey, validation: &Validation) -> Result<Claims, TokenError> {
    use jsonwebtoken::errors::ErrorKind;
    decode::<Claims>(token, key, validation)
        .map(|data| data.claims)
        .map_err(|error| match error.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::InvalidAudience => TokenError::WrongAudience,
            ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => TokenError::BadSignature,
            _ => TokenError::Malformed(error.to_string()),
        })
}

/// The provider may have rotated its keys: fetch the set again, once for every caller
/// waiting on the same miss, and not within [`JWKS_REFETCH_INTERVAL`] of the last fetch.
async fn refetched(
    url: &str,
    set: &RwLock<JwkSet>,
    fetched: &Mutex<Instant>,
    kid: &str,
) -> Result<jsonwebtoken::jwk::Jwk, TokenError> {
    let mut last = fetched.lock().await;
    // Another caller may have fetched while this one waited.
    if let Some(jwk) = set.read().await.find(kid).cloned() {
        return Ok(jwk);
    }
    if last.elapsed() < JWKS_REFETCH_INTERVAL {
        return Err(TokenError::UnknownKey);
    }
    *last = Instant::now();
    let fresh = fetch_jwks(url).await.map_err(|error| {
        tracing::warn!(error = %error, "JWKS refresh failed");
        TokenError::UnknownKey
    })?;
    let found = fresh.find(kid).cloned();
    *set.write().await = fresh;
    found.ok_or(TokenError::UnknownKey)
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn trim_newline(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\n").unwrap_or(bytes)
}

async fn fetch_jwks(url: &str) -> Result<JwkSet, KeyError> {
    let failed = |reason: String| KeyError::Jwks {
        url: url.to_owned(),
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|error| failed(error.to_string()))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|error| failed(error.to_string()))?;
    let response = response
        .error_for_status()
        .map_err(|error| failed(error.to_string()))?;
    let body = response
        .bytes()
        .await
        .map_err(|error| failed(error.to_string()))?;
    serde_json::from_slice(&body).map_err(|error| failed(format!("not a JWK set: {error}")))
}

/// Signs an HS256 token: for `make run`'s dev tokens and for tests, never for production.
pub fn mint_hs256(secret: &[u8], claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(trim_newline(secret)),
    )
}

/// Seconds since the epoch, `after` from now: for a token's `exp`.
pub fn expiry_in(after: Duration) -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|now| (now + after).as_secs())
        .unwrap_or_default()
}

impl crate::config::AuthConfig {
    /// The verifier these settings describe; exactly one key source must be set.
    pub async fn verifier(&self) -> Result<TokenVerifier, KeyError> {
        let (issuer, audience) = (self.issuer.as_str(), self.audience.as_str());
        match (
            &self.hs256_secret_file,
            &self.public_key_file,
            &self.jwks_url,
        ) {
            (Some(secret), None, None) => TokenVerifier::hs256_file(secret, issuer, audience),
            (None, Some(key), None) => {
                let algorithm = self
                    .public_key_algorithm
                    .parse::<Algorithm>()
                    .map_err(|_| KeyError::Pem {
                        path: key.display().to_string(),
                        algorithm: Algorithm::RS256,
                        reason: format!("unknown algorithm {:?}", self.public_key_algorithm),
                    })?;
                TokenVerifier::public_key_file(key, algorithm, issuer, audience)
            }
            (None, None, Some(url)) => TokenVerifier::jwks(url, issuer, audience).await,
            (None, None, None) => Err(KeyError::NoneConfigured),
            _ => Err(KeyError::Ambiguous),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"a test secret of enough length"),
        )
        .expect("a token")
    }

    fn claims(aud: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "sub": "clerk-1", "iss": "xinfang-dev", "aud": aud,
            "exp": 4_102_444_800u64, "roles": ["registrar"]
        })
    }

    #[tokio::test]
    async fn an_audience_array_that_names_this_service_is_accepted() {
        let verifier =
            TokenVerifier::hs256(b"a test secret of enough length", "xinfang-dev", "xinfang");
        let token = signed(claims(serde_json::json!(["portal", "xinfang"])));
        let caller = verifier.verify(&token).await.expect("accepted");
        assert_eq!(caller.subject, "clerk-1");
        let elsewhere = signed(claims(serde_json::json!(["portal", "payroll"])));
        assert_eq!(
            verifier.verify(&elsewhere).await.map(|c| c.subject),
            Err(TokenError::WrongAudience)
        );
    }
}
