//! Mutual TLS between a caller and a service, with certificates from files as a Kubernetes
//! secret would mount them: a caller with a certificate from the configured CA is served;
//! one without a certificate, or with one from another CA, is not.

use std::path::Path;
use std::process::Command;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use xinfang_platform::auth::{BearerToken, Role};
use xinfang_platform::config::TlsConfig;
use xinfang_proto::intake::v1::{ListPetitionsRequest, intake_service_client::IntakeServiceClient};
use xinfang_testkit::auth;

use super::support::IntakeUnderTest;

fn openssl(folder: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(folder)
        .output()
        .expect("run openssl");
    assert!(
        status.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// A CA named `ca`, and a certificate it signs for `name` (files `<name>.pem`, `<name>.key`).
fn certificates(folder: &Path, ca: &str, names: &[&str]) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509", "-days", "1", "-subj"];
    let subject = format!("/CN={ca}");
    args.push(&subject);
    args.extend(ec);
    let (key, pem) = (format!("{ca}.key"), format!("{ca}.pem"));
    args.extend(["-keyout", &key, "-out", &pem]);
    openssl(folder, &args);
    std::fs::write(
        folder.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("ext");
    for name in names {
        let (key, csr, cert, subject) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("/CN={name}"),
        );
        let mut args = vec!["req", "-subj", &subject, "-keyout", &key, "-out", &csr];
        args.extend(ec);
        openssl(folder, &args);
        openssl(
            folder,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &pem,
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                "san.ext",
                "-out",
                &cert,
            ],
        );
    }
}

async fn list_with(
    intake: &IntakeUnderTest,
    folder: &Path,
    identity: Option<&str>,
) -> Result<(), String> {
    let read = |file: &str| std::fs::read(folder.join(file)).expect("a certificate file");
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read("ca.pem")))
        .domain_name("localhost");
    if let Some(name) = identity {
        tls = tls.identity(Identity::from_pem(
            read(&format!("{name}.pem")),
            read(&format!("{name}.key")),
        ));
    }
    let channel = Channel::from_shared(intake.grpc_url.clone())
        .expect("url")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .map_err(|error| format!("connect: {error}"))?;
    let bearer = BearerToken::new(&auth::token(&[Role::Registrar], &[])).expect("token");
    IntakeServiceClient::with_interceptor(channel, bearer)
        .list_petitions(ListPetitionsRequest::default())
        .await
        .map(|_| ())
        .map_err(|status| format!("{status:?}"))
}

#[tokio::test]
async fn only_callers_with_a_certificate_from_the_client_ca_are_served() {
    let folder = tempfile::tempdir().expect("folder");
    certificates(folder.path(), "ca", &["intake", "routing"]);
    certificates(folder.path(), "stranger-ca", &["stranger"]);
    let intake = IntakeUnderTest::with_tls(TlsConfig {
        cert_file: Some(folder.path().join("intake.pem")),
        key_file: Some(folder.path().join("intake.key")),
        client_ca_file: Some(folder.path().join("ca.pem")),
    })
    .await;
    assert!(intake.grpc_url.starts_with("https://"));

    list_with(&intake, folder.path(), Some("routing"))
        .await
        .expect("a known service is served");
    assert!(
        list_with(&intake, folder.path(), None).await.is_err(),
        "served without a certificate"
    );
    assert!(
        list_with(&intake, folder.path(), Some("stranger"))
            .await
            .is_err(),
        "served with another CA's certificate"
    );
}
