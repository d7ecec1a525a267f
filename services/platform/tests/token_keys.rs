//! The other two key sources a city uses: a PEM public key from a file (a Kubernetes
//! secret) and an identity provider's JWKS served over HTTP — with its keys, not a mock of
//! the verifier.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xinfang_platform::auth::Role;
use xinfang_platform::auth::token::{
    Claims, KeyError, TokenError, TokenVerifier, expiry_in, mint_hs256,
};
use xinfang_platform::config::AuthConfig;

/// A test-only Ed25519 key pair (generated with `openssl genpkey -algorithm ed25519`).
const PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIDajOw1KMEejj8Zy/swfFg4JVAZ7bFMdFcieNolgCfSD
-----END PRIVATE KEY-----
";
const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAMuDSa/hZCe959qMbnVRuGGV2o8QzK8BZFfKTAkB+AXQ=
-----END PUBLIC KEY-----
";
/// The same public key as a JWK's `x` (base64url, no padding).
const PUBLIC_X: &str = "MuDSa_hZCe959qMbnVRuGGV2o8QzK8BZFfKTAkB-AXQ";

fn claims() -> Claims {
    Claims {
        sub: "clerk-li".into(),
        iss: "https://idp.example.gov.cn".into(),
        aud: "xinfang".into(),
        exp: expiry_in(Duration::from_secs(600)),
        roles: vec!["registrar".into()],
        units: vec![],
    }
}

fn signed(kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = kid.map(str::to_owned);
    let key = EncodingKey::from_ed_pem(PRIVATE_KEY.as_bytes()).expect("the test key");
    encode(&header, &claims(), &key).expect("a token")
}

/// Serves `body` as JSON to every request on a free port; returns the URL.
async fn serve_json(body: String) -> String {
    serve_json_counting(body, Arc::new(AtomicUsize::new(0))).await
}

/// As [`serve_json`], counting the requests in `served`.
async fn serve_json_counting(body: String, served: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            served.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{address}/.well-known/jwks.json")
}

fn jwks() -> String {
    format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{PUBLIC_X}","kid":"idp-2026","alg":"EdDSA","use":"sig"}}]}}"#
    )
}

#[tokio::test]
async fn a_pem_public_key_verifies_its_tokens_and_only_those() {
    let folder = tempfile::tempdir().expect("folder");
    let path = folder.path().join("idp.pub.pem");
    std::fs::write(&path, PUBLIC_KEY).expect("write the key");
    let verifier = TokenVerifier::public_key_file(
        &path,
        Algorithm::EdDSA,
        "https://idp.example.gov.cn",
        "xinfang",
    )
    .expect("a verifier");
    let caller = verifier.verify(&signed(None)).await.expect("verified");
    assert_eq!(caller.subject, "clerk-li");
    assert_eq!(caller.roles, vec![Role::Registrar]);
    // An HMAC token "signed" with the public key text must not pass (algorithm confusion).
    let confused = mint_hs256(PUBLIC_KEY.as_bytes(), &claims()).expect("a token");
    assert_eq!(
        verifier.verify(&confused).await,
        Err(TokenError::BadSignature)
    );
}

#[tokio::test]
async fn a_jwks_key_is_found_by_its_kid() {
    let url = serve_json(jwks()).await;
    let verifier = TokenVerifier::jwks(&url, "https://idp.example.gov.cn", "xinfang")
        .await
        .expect("the JWKS is fetched");
    let caller = verifier
        .verify(&signed(Some("idp-2026")))
        .await
        .expect("verified");
    assert_eq!(caller.subject, "clerk-li");
    assert_eq!(
        verifier.verify(&signed(Some("rotated-away"))).await,
        Err(TokenError::UnknownKey)
    );
    assert_eq!(
        verifier.verify(&signed(None)).await,
        Err(TokenError::UnknownKey)
    );
    let hmac = mint_hs256(b"anything", &claims()).expect("a token");
    assert_eq!(verifier.verify(&hmac).await, Err(TokenError::BadSignature));
}

#[tokio::test]
async fn an_unreachable_jwks_stops_the_start() {
    let refused = TokenVerifier::jwks("http://127.0.0.1:9/jwks.json", "iss", "aud").await;
    assert!(matches!(refused, Err(KeyError::Jwks { .. })));
}

#[tokio::test]
async fn exactly_one_key_source_must_be_configured() {
    let none = AuthConfig {
        issuer: "i".into(),
        audience: "a".into(),
        ..AuthConfig::default()
    };
    assert!(matches!(
        none.verifier().await,
        Err(KeyError::NoneConfigured)
    ));
    let two = AuthConfig {
        hs256_secret_file: Some("secret".into()),
        jwks_url: Some("http://idp/jwks".into()),
        ..none.clone()
    };
    assert!(matches!(two.verifier().await, Err(KeyError::Ambiguous)));
}

#[tokio::test]
async fn a_unit_claim_that_is_not_a_unit_code_is_refused() {
    // A wildcard would otherwise widen a handler's lists to every unit.
    let verifier = TokenVerifier::hs256(b"secret", "https://idp.example.gov.cn", "xinfang");
    let mut wide = claims();
    wide.roles = vec!["unit_handler".into()];
    wide.units = vec!["%".into()];
    let token = mint_hs256(b"secret", &wide).expect("a token");
    assert_eq!(
        verifier.verify(&token).await,
        Err(TokenError::Malformed(
            "unit \"%\" is not a unit code".into()
        ))
    );
}

#[tokio::test]
async fn tokens_naming_unknown_keys_cannot_make_the_service_hammer_the_identity_provider() {
    let served = Arc::new(AtomicUsize::new(0));
    let url = serve_json_counting(jwks(), served.clone()).await;
    let verifier = TokenVerifier::jwks(&url, "https://idp.example.gov.cn", "xinfang")
        .await
        .expect("the JWKS is fetched");
    assert_eq!(served.load(Ordering::SeqCst), 1);
    // Fifty unauthenticated calls at once, each naming a random key id.
    let refused = futures::future::join_all((0..50).map(|i| {
        let verifier = verifier.clone();
        async move { verifier.verify(&signed(Some(&format!("random-{i}")))).await }
    }))
    .await;
    assert!(refused.iter().all(|r| *r == Err(TokenError::UnknownKey)));
    // One refetch at most, shared by all of them; later misses wait for the interval.
    assert!(served.load(Ordering::SeqCst) <= 2, "{served:?}");
    verifier
        .verify(&signed(Some("idp-2026")))
        .await
        .expect("the known key still verifies");
}
