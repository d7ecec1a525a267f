//! Departments' own feeds on a real nats-server with the generated configuration: a
//! department reads its own units' case events through the durable consumers the operator
//! declared, none of another's, and every other way in (another's subjects, a stream read
//! directly, a consumer of its own, another's consumer) is refused by the server. The Python
//! example subscriber in deploy/departments/ reads the same feed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::jetstream;
use async_nats::{ConnectOptions, Event};
use futures::StreamExt;
use tokio::sync::mpsc;
use uuid::Uuid;
use xinfang_platform::department_feeds::{self, Department, DirectoryUnit};
use xinfang_platform::nats_auth::{self, NatsUser};
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_proto::routing::v1::PetitionRouted;
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::CaseAdvanced;
use xinfang_routing::directory::{Directory, UnitKind};
use xinfang_testkit::NatsServer;

const PASSWORD: &str = "department-secret";

fn demo_directory() -> Directory {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../services/routing/directory/xingping.toml");
    Directory::load(&path).expect("the demo directory")
}

/// Every department of the demo directory.
fn demo_departments() -> Vec<Department> {
    let directory = demo_directory();
    let units: Vec<DirectoryUnit> = directory
        .units()
        .map(|unit| DirectoryUnit {
            code: unit.code.to_string(),
            parent: unit.parent.as_ref().map(ToString::to_string),
            handles_cases: !matches!(unit.kind, UnitKind::Bureau | UnitKind::HigherBureau),
        })
        .collect();
    department_feeds::departments(&units)
}

/// A server with the services' users, the operator, and every department's user; the
/// streams and the departments' consumers declared, as `make run` does.
async fn feed_server() -> (NatsServer, jetstream::Context) {
    let departments = demo_departments();
    let mut users: Vec<NatsUser> = subjects::SERVICES
        .iter()
        .map(|binding| NatsUser {
            name: binding.service.to_owned(),
            password: format!("{}-secret", binding.service),
            permissions: Some(nats_auth::permissions(binding)),
        })
        .collect();
    users.push(NatsUser {
        name: "operator".into(),
        password: "operator-secret".into(),
        permissions: None,
    });
    users.extend(
        departments
            .iter()
            .map(|department| department_feeds::user(department, PASSWORD.to_owned())),
    );
    let nats = NatsServer::start_configured(
        "always",
        Some(nats_auth::authorization_block(&users)),
        Some(("operator".into(), "operator-secret".into())),
    )
    .await
    .expect("nats-server with the generated users");
    let context = jetstream::new(nats.client().await.expect("operator connects"));
    xinfang_platform::jetstream::declare_streams(&context, &nats.config())
        .await
        .expect("streams declared");
    department_feeds::declare(&context, &departments)
        .await
        .expect("the departments' consumers declared");
    (nats, context)
}

/// Publishes a routed event and a sign-for of one case routed to `unit`, as routing and
/// supervision would.
async fn publish_case_of(context: &jetstream::Context, unit: &str, number: usize) {
    let case_id = Uuid::now_v7();
    let now = time::OffsetDateTime::now_utc();
    let routed = OutgoingEvent::new(
        subjects::petition_routed(unit),
        "routing",
        case_id,
        now,
        &PetitionRouted {
            case_id: case_id.to_string(),
            case_number: format!("610481-2026-{number:06}"),
            unit_code: unit.to_owned(),
            revision: 1,
            ..Default::default()
        },
    );
    let signed = OutgoingEvent::new(
        subjects::case_advanced(unit, "signed-for"),
        "supervision",
        case_id,
        now,
        &CaseAdvanced {
            case_id: case_id.to_string(),
            ..Default::default()
        },
    );
    for event in [routed, signed] {
        context
            .publish_with_headers(event.subject, event.envelope.to_headers(), event.payload)
            .await
            .expect("published")
            .await
            .expect("stored");
    }
}

/// Connects as the department of `unit`, collecting the server's error events.
async fn connect_as_department(
    nats: &NatsServer,
    unit: &str,
) -> (async_nats::Client, mpsc::UnboundedReceiver<String>) {
    let (errors, received) = mpsc::unbounded_channel();
    let user = department_feeds::user_name(unit);
    let client = ConnectOptions::with_user_and_password(user.clone(), PASSWORD.into())
        .custom_inbox_prefix(nats_auth::inbox_prefix(&user))
        .event_callback(move |event| {
            let errors = errors.clone();
            async move {
                if let Event::ServerError(error) = event {
                    let _ = errors.send(error.to_string().to_lowercase());
                }
            }
        })
        .connect(nats.url())
        .await
        .expect("the department connects");
    (client, received)
}

async fn next_error(errors: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(3), errors.recv())
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Every subject the department's own consumers hold, read through them.
async fn read_own_feed(client: &async_nats::Client, unit: &str) -> Vec<String> {
    let context = jetstream::new(client.clone());
    let name = department_feeds::user_name(unit);
    let mut subjects_read = Vec::new();
    for (stream, _) in department_feeds::FEED_STREAMS {
        let consumer: jetstream::consumer::PullConsumer = context
            .get_consumer_from_stream(&name, stream.name)
            .await
            .expect("its own consumer");
        let mut batch = consumer
            .fetch()
            .max_messages(500)
            .expires(Duration::from_secs(1))
            .messages()
            .await
            .expect("fetch");
        while let Some(message) = batch.next().await {
            let message = message.expect("a message");
            subjects_read.push(message.subject.to_string());
            message.ack().await.expect("acknowledged");
        }
    }
    subjects_read
}

#[tokio::test]
async fn a_department_reads_its_own_units_events_and_nothing_of_anothers() {
    let (nats, context) = feed_server().await;
    // 50 cases of other departments, 2 of 赵村镇 and 1 of its village 铁佛村.
    let others = ["dongcheng", "renshe", "zhujian", "nanshi", "mawei"];
    for number in 0..50 {
        publish_case_of(&context, others[number % others.len()], number).await;
    }
    publish_case_of(&context, "zhaocun", 50).await;
    publish_case_of(&context, "zhaocun-tiefo", 51).await;
    publish_case_of(&context, "zhaocun", 52).await;

    let (client, mut errors) = connect_as_department(&nats, "zhaocun").await;
    let read = read_own_feed(&client, "zhaocun").await;
    assert_eq!(read.len(), 6, "{read:?}");
    assert!(
        read.iter().all(
            |subject| subject.starts_with("xinfang.v1.routing.unit.zhaocun")
                || subject.starts_with("xinfang.v1.supervision.unit.zhaocun")
        ),
        "{read:?}"
    );
    assert!(
        read.iter()
            .any(|subject| subject.contains(".zhaocun-tiefo."))
    );
    assert_eq!(next_error(&mut errors).await, "", "reading its own feed");

    // Another's events on their subjects.
    let _spy = client
        .subscribe("xinfang.v1.routing.unit.dongcheng.>")
        .await
        .expect("sent");
    client.flush().await.expect("flushed");
    assert!(
        next_error(&mut errors)
            .await
            .contains("permissions violation for subscription"),
    );
    // A stream's messages directly, or through another's consumer, or a consumer of its own.
    for (subject, body) in [
        (
            "$JS.API.DIRECT.GET.XINFANG_ROUTING".to_owned(),
            r#"{"seq":1}"#.to_owned(),
        ),
        (
            "$JS.API.STREAM.MSG.GET.XINFANG_ROUTING".to_owned(),
            r#"{"seq":1}"#.to_owned(),
        ),
        (
            "$JS.API.CONSUMER.MSG.NEXT.XINFANG_ROUTING.dept-dongcheng".to_owned(),
            r#"{"batch":10}"#.to_owned(),
        ),
        (
            "$JS.API.CONSUMER.CREATE.XINFANG_ROUTING.spy.xinfang.v1.routing.>".to_owned(),
            r#"{"stream_name":"XINFANG_ROUTING","config":{"name":"spy","filter_subject":"xinfang.v1.routing.>"}}"#.to_owned(),
        ),
        (
            "$JS.API.CONSUMER.DURABLE.CREATE.XINFANG_ROUTING.dept-zhaocun".to_owned(),
            r#"{"stream_name":"XINFANG_ROUTING","config":{"durable_name":"dept-zhaocun","filter_subject":"xinfang.v1.routing.>"}}"#.to_owned(),
        ),
    ] {
        client
            .publish(subject.clone(), body.into())
            .await
            .expect("sent");
        client.flush().await.expect("flushed");
        let error = next_error(&mut errors).await;
        assert!(
            error.contains("permissions violation for publish") && error.contains(&subject.to_lowercase()),
            "{subject}: {error:?}"
        );
    }
    // Its own consumer still filters to its own units: no one widened it.
    let info = context
        .get_stream("XINFANG_ROUTING")
        .await
        .expect("stream")
        .consumer_info("dept-zhaocun")
        .await
        .expect("its consumer");
    let filters: Vec<&str> = info
        .config
        .filter_subjects
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        filters,
        [
            "xinfang.v1.routing.unit.zhaocun.>",
            "xinfang.v1.routing.unit.zhaocun-tiefo.>"
        ]
    );
}

/// The Python interpreter with nats-py and protobuf (`make tools` installs it).
pub fn department_python() -> PathBuf {
    let python = std::env::var_os("XINFANG_DEPARTMENT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/departments/bin/python")
        });
    assert!(
        python.exists(),
        "no Python for the department example at {} (run `make tools`)",
        python.display()
    );
    python
}

#[tokio::test]
async fn the_python_example_subscriber_reads_and_decodes_its_departments_events() {
    let python = department_python();
    let (nats, context) = feed_server().await;
    for (number, unit) in ["dongcheng", "zhaocun", "renshe", "zhaocun-tiefo"]
        .into_iter()
        .enumerate()
    {
        publish_case_of(&context, unit, number).await;
    }
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/departments");
    let work = tempfile::tempdir().expect("a work folder");
    let generated = work.path().join("generated");
    // As a developer runs it: from their own folder, into a relative one.
    let status = tokio::process::Command::new(example.join("generate.sh"))
        .current_dir(work.path())
        .arg("generated")
        .env("PYTHON", &python)
        .status()
        .await
        .expect("generate.sh runs");
    assert!(status.success(), "generate.sh failed");
    let password = work.path().join("dept-zhaocun.password");
    std::fs::write(&password, PASSWORD).expect("password file");
    let output = tokio::process::Command::new(&python)
        .arg(example.join("subscriber.py"))
        .args(["--url", &nats.url(), "--unit", "zhaocun", "--max", "4"])
        .args(["--idle-rounds", "3", "--fetch-timeout", "1"])
        .arg("--password-file")
        .arg(&password)
        .arg("--proto")
        .arg(&generated)
        .output()
        .await
        .expect("the subscriber runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(events.len(), 4, "{stdout}");
    let mut kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|event| {
            (
                event["type"].as_str().unwrap_or_default(),
                event["data"]["case_id"].as_str().map_or("", |_| "decoded"),
            )
        })
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            ("xinfang.routing.v1.PetitionRouted", "decoded"),
            ("xinfang.routing.v1.PetitionRouted", "decoded"),
            ("xinfang.supervision.v1.CaseAdvanced", "decoded"),
            ("xinfang.supervision.v1.CaseAdvanced", "decoded"),
        ]
    );
    let numbers: Vec<&str> = events
        .iter()
        .filter_map(|event| event["data"]["case_number"].as_str())
        .collect();
    assert_eq!(numbers, ["610481-2026-000001", "610481-2026-000003"]);
}
