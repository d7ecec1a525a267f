//! The surge channel as a system's developer uses it: the Python example (nats-py) submits
//! a petition as the online platform's NATS user and reads its receipt; the petition is
//! then a case like any other.

use std::path::Path;

use xinfang_proto::intake::v1::{GetPetitionRequest, get_petition_request::Key};
use xinfang_proto::v1 as proto;
use xinfang_testkit::{Backend, Stack, sample};

use crate::department_feeds::department_python;
use crate::support;

const SYSTEM: &str = "online-platform";

fn petition_json(content: &str) -> String {
    let received = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
    let received = received
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a timestamp");
    serde_json::json!({
        "receivedAt": received,
        "petitioner": {
            "kind": "PETITIONER_KIND_PERSON",
            "name": "网民李某",
            "idCardNumber": sample::id_card_number(77),
            "phone": sample::phone(77),
            "address": "兴平市东城街道北街3号"
        },
        "peopleCount": 1,
        "territoryCode": "dongcheng-beijie",
        "matterCategory": "neighbourhood",
        "title": "楼下餐馆油烟扰民",
        "content": content
    })
    .to_string()
}

/// Runs `submit.py`: its exit code and the receipt line it printed.
async fn submit(
    python: &Path,
    stack: &Stack,
    work: &Path,
    generated: &Path,
    content: &str,
) -> (i32, serde_json::Value) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/systems/submit.py");
    let petition = work.join("petition.json");
    std::fs::write(&petition, petition_json(content)).expect("petition file");
    let password = work.join("online-platform.password");
    std::fs::write(
        &password,
        stack.submitter_password(SYSTEM).expect("a submitter"),
    )
    .expect("password file");
    let output = tokio::process::Command::new(python)
        .arg(example)
        .args(["--url", &stack.nats.url(), "--system", SYSTEM])
        .args(["--channel", "online", "--password-file"])
        .arg(&password)
        .arg("--proto")
        .arg(generated)
        .arg(&petition)
        .output()
        .await
        .expect("submit.py runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let receipt = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "not one JSON line: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), receipt)
}

#[tokio::test]
async fn the_python_example_submits_as_the_online_platform_and_reads_its_receipt() {
    let python = department_python();
    let stack = Stack::start(Backend::Postgres).await.expect("stack");
    let work = tempfile::tempdir().expect("a work folder");
    let generated = work.path().join("generated");
    let generate = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/departments/generate.sh");
    let status = tokio::process::Command::new(generate)
        .arg(&generated)
        .env("PYTHON", &python)
        .status()
        .await
        .expect("generate.sh runs");
    assert!(status.success(), "generate.sh failed");

    let (code, receipt) = submit(
        &python,
        &stack,
        work.path(),
        &generated,
        "每天晚上十点后仍有油烟和噪音，请求查处。",
    )
    .await;
    assert_eq!(code, 0, "{receipt}");
    let accepted = &receipt["accepted"];
    let case_number = accepted["caseNumber"].as_str().expect("a case number");
    assert_eq!(accepted["queryCode"].as_str().map(str::len), Some(14));
    let petition = support::intake(&stack)
        .await
        .get_petition(GetPetitionRequest {
            key: Some(Key::CaseNumber(case_number.to_owned())),
        })
        .await
        .expect("the case")
        .into_inner();
    assert_eq!(petition.channel(), proto::Channel::Online);
    assert_eq!(petition.title, "楼下餐馆油烟扰民");

    let (code, receipt) = submit(&python, &stack, work.path(), &generated, "").await;
    assert_eq!(code, 1, "{receipt}");
    assert_eq!(
        receipt["rejected"]["problems"][0]["field"].as_str(),
        Some("petition.content")
    );
}
