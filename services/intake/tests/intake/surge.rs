//! The surge channel: external systems submit petitions on NATS into intake's work queue,
//! each on its own channel's subject, and read their receipts; any number of intake
//! replicas register them. The server checks users as production's does, and its store is
//! encrypted.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;
use prost::Message;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use tokio_util::sync::CancellationToken;
use xinfang_intake::store::petition;
use xinfang_platform::auth::{Role, audit};
use xinfang_platform::nats_auth::{self, NatsUser};
use xinfang_platform::service::RunningService;
use xinfang_proto::intake::v1::{
    FollowPetitionRequest, Submission, SubmissionReceipt,
    intake_service_client::IntakeServiceClient, submission_receipt::Outcome,
};
use xinfang_proto::subjects::{
    INTAKE, SUBMISSION_STREAM, receipt_subject, receipts_of, submission_subject,
};
use xinfang_proto::v1 as proto;
use xinfang_testkit::{NatsServer, TestDatabase, auth, sample};

use super::identity::{
    CANARY_ADDRESS, CANARY_ID, CANARY_NAME, CANARY_PHONE, canary_petition, files_holding,
};
use super::support::{self, eventually};

const ONLINE: &str = "online-platform";
const PROVINCIAL: &str = "provincial-bureau";

/// A nats-server that checks users (intake's, the operator's, two systems'), a PostgreSQL
/// database, and intake replicas started on demand.
struct Rig {
    nats: NatsServer,
    users: Vec<NatsUser>,
    database: TestDatabase,
    secret: tempfile::TempDir,
    replicas: Vec<(CancellationToken, RunningService)>,
    db: DatabaseConnection,
}

impl Rig {
    async fn new() -> Self {
        Self::on(TestDatabase::postgres().await.expect("test database")).await
    }

    /// On a database of the caller's (on a private cluster a test stops, say).
    async fn on(database: TestDatabase) -> Self {
        let password = || uuid::Uuid::new_v4().simple().to_string();
        let mut users = vec![
            NatsUser {
                name: "intake".into(),
                password: password(),
                permissions: Some(nats_auth::permissions(&INTAKE)),
            },
            nats_auth::submitter(ONLINE, "online", password()).expect("online platform"),
            nats_auth::submitter(PROVINCIAL, "upstream", password()).expect("provincial"),
        ];
        let operator = ("operator".to_owned(), password());
        users.push(NatsUser {
            name: operator.0.clone(),
            password: operator.1.clone(),
            permissions: None,
        });
        let nats = NatsServer::start_configured(
            "always",
            Some(nats_auth::authorization_block(&users)),
            Some(operator),
        )
        .await
        .expect("nats-server");
        let operator = jetstream::new(nats.client().await.expect("operator"));
        xinfang_platform::jetstream::declare_streams(&operator, &nats.config())
            .await
            .expect("the operator declares the streams");
        let db = xinfang_platform::database::connect(database.url(), 2)
            .await
            .expect("test connection");
        Self {
            nats,
            users,
            database,
            secret: tempfile::tempdir().expect("a folder for secrets"),
            replicas: Vec::new(),
            db,
        }
    }

    fn password(&self, user: &str) -> String {
        self.users
            .iter()
            .find(|known| known.name == user)
            .map(|known| known.password.clone())
            .expect("a user of the rig")
    }

    /// One more intake replica, as its own NATS user, on the shared database and keys.
    async fn start_replica(&mut self) -> String {
        let secret_file = auth::write_secret(self.secret.path()).expect("token secret");
        let mut nats = self.nats.config();
        nats.user = Some("intake".into());
        nats.password = Some(self.password("intake"));
        let config = support::config(
            self.database.url(),
            nats,
            secret_file,
            self.secret.path().join("identity.keys"),
        );
        let shutdown = CancellationToken::new();
        let running = xinfang_intake::start(config, shutdown.clone())
            .await
            .expect("intake starts");
        let url = format!("http://{}", running.grpc_address);
        self.replicas.push((shutdown, running));
        url
    }

    /// A client connected as `system`, with the inbox prefix its user may read.
    async fn system(&self, system: &str) -> async_nats::Client {
        async_nats::ConnectOptions::with_user_and_password(system.into(), self.password(system))
            .custom_inbox_prefix(nats_auth::inbox_prefix(system))
            .connect(self.nats.url())
            .await
            .expect("the system connects")
    }

    /// Submissions still queued.
    async fn queued(&self) -> u64 {
        let operator = jetstream::new(self.nats.client().await.expect("operator"));
        let mut stream = operator
            .get_stream(SUBMISSION_STREAM.name)
            .await
            .expect("the queue");
        stream.info().await.expect("queue info").state.messages
    }

    async fn petitions(&self) -> u64 {
        petition::Entity::find()
            .count(&self.db)
            .await
            .expect("count petitions")
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        for (shutdown, _) in &self.replicas {
            shutdown.cancel();
        }
    }
}

fn submission(request_id: &str, petition: proto::Petition) -> Submission {
    Submission {
        request_id: request_id.into(),
        petition: Some(petition),
    }
}

/// An online petition as the platform sends it: no channel, no source (the subject's).
fn online_petition(index: usize) -> proto::Petition {
    proto::Petition {
        channel: 0,
        source: None,
        ..sample::petition(index)
    }
}

/// Queues `submission` on `subject` (the server's acknowledgement awaited).
async fn queue(client: &async_nats::Client, subject: String, submission: &Submission) {
    jetstream::new(client.clone())
        .publish(subject, submission.encode_to_vec().into())
        .await
        .expect("published")
        .await
        .expect("queued");
}

/// Submits and waits for the receipt on the request's own subject.
async fn submit(
    client: &async_nats::Client,
    system: &str,
    channel: &str,
    submission: &Submission,
) -> SubmissionReceipt {
    let token = if uuid::Uuid::parse_str(&submission.request_id).is_ok() {
        submission.request_id.as_str()
    } else {
        "invalid"
    };
    let mut receipts = client
        .subscribe(receipt_subject(system, token))
        .await
        .expect("subscribed");
    queue(client, submission_subject(channel, system), submission).await;
    receipt(&mut receipts).await
}

async fn receipt(receipts: &mut async_nats::Subscriber) -> SubmissionReceipt {
    let message = tokio::time::timeout(Duration::from_secs(30), receipts.next())
        .await
        .expect("a receipt within 30 s")
        .expect("the subscription is open");
    SubmissionReceipt::decode(message.payload).expect("a SubmissionReceipt")
}

fn accepted(receipt: &SubmissionReceipt) -> &xinfang_proto::intake::v1::SubmissionAccepted {
    match &receipt.outcome {
        Some(Outcome::Accepted(accepted)) => accepted,
        other => panic!("not accepted: {other:?}"),
    }
}

fn problems(receipt: &SubmissionReceipt) -> Vec<(String, String)> {
    match &receipt.outcome {
        Some(Outcome::Rejected(rejected)) => rejected
            .problems
            .iter()
            .map(|p| (p.field.clone(), p.description.clone()))
            .collect(),
        other => panic!("not rejected: {other:?}"),
    }
}

#[tokio::test]
async fn a_system_submits_on_its_channel_and_gets_the_case_number_and_a_working_query_code() {
    let mut rig = Rig::new().await;
    let grpc = rig.start_replica().await;
    let platform = rig.system(ONLINE).await;
    let request_id = uuid::Uuid::new_v4().to_string();

    let answer = submit(
        &platform,
        ONLINE,
        "online",
        &submission(&request_id, online_petition(1)),
    )
    .await;

    assert_eq!(answer.request_id, request_id);
    let case = accepted(&answer);
    assert!(case.case_number.starts_with("610481"), "{case:?}");
    let stored = petition::Entity::find()
        .one(&rig.db)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.case_number, case.case_number);
    assert_eq!(stored.channel, "online");
    // Registered by the system, as the audit says.
    let audited = audit::entry::Entity::find()
        .filter(audit::entry::Column::CaseId.eq(stored.case_id))
        .one(&rig.db)
        .await
        .expect("read the audit")
        .expect("an audit row");
    assert_eq!(
        (audited.subject.as_str(), audited.action.as_str()),
        (ONLINE, "xinfang.v1.submissions.online.online-platform")
    );
    // The petitioner follows the case with the receipt's query code.
    let mut portal =
        IntakeServiceClient::new(auth::authed(&grpc, &auth::token(&[Role::Service], &[])));
    let followed = portal
        .follow_petition(FollowPetitionRequest {
            case_number: case.case_number.clone(),
            query_code: case.query_code.clone(),
        })
        .await
        .expect("followed")
        .into_inner();
    assert_eq!(followed.case_id, case.case_id);
    // Registered, it left the queue.
    eventually(Duration::from_secs(30), || async {
        (rig.queued().await == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_wrong_submission_is_answered_with_every_fields_reason_and_nothing_is_stored() {
    let mut rig = Rig::new().await;
    rig.start_replica().await;
    let platform = rig.system(ONLINE).await;

    let mut wrong = online_petition(2);
    wrong.channel = proto::Channel::Letter as i32;
    wrong.content = String::new();
    wrong.title = "补偿\u{202E}款".into();
    let answer = submit(
        &platform,
        ONLINE,
        "online",
        &submission(&uuid::Uuid::new_v4().to_string(), wrong),
    )
    .await;
    let fields: Vec<String> = problems(&answer).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        ["petition.channel", "petition.title", "petition.content"]
    );

    let answer = submit(
        &platform,
        ONLINE,
        "online",
        &submission("petition-7", online_petition(3)),
    )
    .await;
    assert_eq!(answer.request_id, "petition-7");
    assert_eq!(problems(&answer)[0].0, "request_id");

    // Not a Submission at all: answered on the `invalid` receipt.
    let mut invalid = platform
        .subscribe(receipt_subject(ONLINE, "invalid"))
        .await
        .expect("subscribed");
    jetstream::new(platform.clone())
        .publish(
            submission_subject("online", ONLINE),
            "不是protobuf".as_bytes().to_vec().into(),
        )
        .await
        .expect("published")
        .await
        .expect("queued");
    let answer = receipt(&mut invalid).await;
    assert_eq!(problems(&answer)[0].0, "submission");

    // A higher bureau's system submits only what was sent down.
    let provincial = rig.system(PROVINCIAL).await;
    let answer = submit(
        &provincial,
        PROVINCIAL,
        "upstream",
        &submission(&uuid::Uuid::new_v4().to_string(), sample::petition(4)),
    )
    .await;
    assert_eq!(problems(&answer)[0].0, "petition.source.level");

    assert_eq!(rig.petitions().await, 0);
    eventually(Duration::from_secs(30), || async {
        (rig.queued().await == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_resubmitted_petition_is_registered_once_and_answered_with_a_new_query_code() {
    let mut rig = Rig::new().await;
    let grpc = rig.start_replica().await;
    let platform = rig.system(ONLINE).await;
    let again = submission(&uuid::Uuid::new_v4().to_string(), online_petition(5));

    let first = submit(&platform, ONLINE, "online", &again).await;
    let second = submit(&platform, ONLINE, "online", &again).await;

    let (first, second) = (accepted(&first), accepted(&second));
    assert_eq!(first.case_number, second.case_number);
    assert_ne!(first.query_code, second.query_code);
    assert_eq!(rig.petitions().await, 1);
    // The latest receipt's code is the one that works.
    let mut portal =
        IntakeServiceClient::new(auth::authed(&grpc, &auth::token(&[Role::Service], &[])));
    let follow = |code: &str| FollowPetitionRequest {
        case_number: first.case_number.clone(),
        query_code: code.to_owned(),
    };
    portal
        .follow_petition(follow(&second.query_code))
        .await
        .expect("the latest code works");
    let stale = portal
        .follow_petition(follow(&first.query_code))
        .await
        .expect_err("the earlier code no longer works");
    assert_eq!(stale.code(), tonic::Code::NotFound);

    // The same request id for another petition is refused.
    let other = submission(&again.request_id, online_petition(6));
    let refused = submit(&platform, ONLINE, "online", &other).await;
    assert_eq!(problems(&refused)[0].0, "request_id");
    assert_eq!(rig.petitions().await, 1);
}

#[tokio::test]
async fn a_system_may_submit_only_on_its_own_channel_and_read_only_its_own_receipts() {
    let rig = Rig::new().await;
    let platform = rig.system(ONLINE).await;
    let provincial = rig.system(PROVINCIAL).await;
    let operator = rig.nats.client().await.expect("operator");
    let petition = submission(&uuid::Uuid::new_v4().to_string(), online_petition(7));

    // On another channel, or as another system: the server drops it, nothing is queued.
    for subject in [
        submission_subject("upstream", ONLINE),
        submission_subject("upstream", PROVINCIAL),
        submission_subject("online", PROVINCIAL),
    ] {
        let attempt = tokio::time::timeout(Duration::from_secs(3), async {
            jetstream::new(platform.clone())
                .publish(subject.clone(), petition.encode_to_vec().into())
                .await?
                .await
                .map_err(|error| error.to_string().into())
        })
        .await;
        let refused: bool = match attempt {
            Err(_) => true,
            Ok(Ok(_)) => false,
            Ok(Err::<_, Box<dyn std::error::Error + Send + Sync>>(_)) => true,
        };
        assert!(refused, "{subject} was queued");
    }
    assert_eq!(rig.queued().await, 0);

    // The queue itself is intake's: a system cannot read it.
    let read = tokio::time::timeout(
        Duration::from_secs(3),
        jetstream::new(platform.clone()).get_stream(SUBMISSION_STREAM.name),
    )
    .await;
    assert!(!matches!(read, Ok(Ok(_))), "the system read the queue");

    // Another system's receipts never reach it.
    let mut theirs = platform
        .subscribe(receipts_of(PROVINCIAL))
        .await
        .expect("subscribe (the server refuses it)");
    let mut own = provincial
        .subscribe(receipts_of(PROVINCIAL))
        .await
        .expect("subscribed");
    provincial.flush().await.expect("flushed");
    platform.flush().await.ok();
    // Sent until the owner has it (a loaded machine may be slow to take the subscription).
    let mut delivered = false;
    for _ in 0..20 {
        operator
            .publish(receipt_subject(PROVINCIAL, "r-1"), "receipt".into())
            .await
            .expect("published");
        operator.flush().await.expect("flushed");
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(1), own.next()).await {
            delivered = true;
            break;
        }
    }
    assert!(delivered, "the owner gets it");
    let leaked = tokio::time::timeout(Duration::from_secs(1), theirs.next()).await;
    assert!(
        !matches!(leaked, Ok(Some(_))),
        "another system read the receipt"
    );
}

#[tokio::test]
async fn a_queued_submission_is_unreadable_on_disk_and_leaves_the_queue_once_registered() {
    let mut rig = Rig::new().await;
    let platform = rig.system(ONLINE).await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let canary = proto::Petition {
        channel: proto::Channel::Online as i32,
        ..canary_petition()
    };
    let mut receipts = platform
        .subscribe(receipt_subject(ONLINE, &request_id))
        .await
        .expect("subscribed");
    queue(
        &platform,
        submission_subject("online", ONLINE),
        &submission(&request_id, canary),
    )
    .await;

    // Queued with no intake running: in the stream as sent, and on disk only encrypted.
    assert_eq!(rig.queued().await, 1);
    let operator = jetstream::new(rig.nats.client().await.expect("operator"));
    let queued = operator
        .get_stream(SUBMISSION_STREAM.name)
        .await
        .expect("the queue")
        .get_raw_message(1)
        .await
        .expect("the queued submission");
    let sent = Submission::decode(queued.payload).expect("a Submission");
    assert_eq!(
        sent.petition.and_then(|p| p.petitioner).map(|p| p.name),
        Some(CANARY_NAME.to_owned()),
        "the stream holds the submission as sent"
    );
    let canaries = [CANARY_NAME, CANARY_ID, CANARY_PHONE, CANARY_ADDRESS];
    let found = files_holding(rig.nats.store(), &canaries);
    assert!(found.is_empty(), "plaintext in the store: {found:?}");

    rig.start_replica().await;
    let answer = receipt(&mut receipts).await;
    accepted(&answer);
    eventually(Duration::from_secs(30), || async {
        (rig.queued().await == 0).then_some(())
    })
    .await;
    let found = files_holding(rig.nats.store(), &canaries);
    assert!(found.is_empty(), "plaintext in the store: {found:?}");
}

#[tokio::test]
async fn two_replicas_register_5000_queued_submissions_each_once_and_answer_every_one() {
    const SUBMISSIONS: usize = 5_000;
    let mut rig = Rig::new().await;
    let platform = rig.system(ONLINE).await;
    let mut receipts = platform
        .subscribe(receipts_of(ONLINE))
        .await
        .expect("subscribed");
    let js = jetstream::new(platform.clone());
    let mut sent = HashSet::new();
    for chunk in (0..SUBMISSIONS).collect::<Vec<_>>().chunks(500) {
        let mut acks = Vec::new();
        for &index in chunk {
            let request_id = uuid::Uuid::new_v4().to_string();
            let payload = submission(&request_id, online_petition(index)).encode_to_vec();
            acks.push(
                js.publish(submission_subject("online", ONLINE), payload.into())
                    .await
                    .expect("published"),
            );
            sent.insert(request_id);
        }
        for ack in acks {
            ack.await.expect("queued");
        }
    }
    assert_eq!(rig.queued().await, SUBMISSIONS as u64);

    rig.start_replica().await;
    rig.start_replica().await;
    let mut answered: HashMap<String, String> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while answered.len() < SUBMISSIONS {
        let message = tokio::time::timeout_at(deadline, receipts.next())
            .await
            .unwrap_or_else(|_| panic!("{} of {SUBMISSIONS} answered", answered.len()))
            .expect("open");
        let receipt = SubmissionReceipt::decode(message.payload).expect("a receipt");
        let number = accepted(&receipt).case_number.clone();
        if let Some(earlier) = answered.insert(receipt.request_id.clone(), number.clone()) {
            // A redelivery is answered again, never with another case.
            assert_eq!(earlier, number, "{} answered twice", receipt.request_id);
        }
    }

    let answered_ids: HashSet<String> = answered.keys().cloned().collect();
    assert_eq!(answered_ids, sent);
    let numbers: HashSet<&String> = answered.values().collect();
    assert_eq!(numbers.len(), SUBMISSIONS, "a case number given twice");
    assert_eq!(rig.petitions().await, SUBMISSIONS as u64);
    eventually(Duration::from_secs(30), || async {
        (rig.queued().await == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn submissions_queued_while_the_database_is_down_are_registered_once_it_is_back() {
    const SUBMISSIONS: usize = 30;
    let postgres = xinfang_testkit::PrivatePostgres::start()
        .await
        .expect("a private cluster");
    let database = TestDatabase::postgres_on(&postgres.url())
        .await
        .expect("a database on it");
    let url = database.url().to_owned();
    let mut rig = Rig::on(database).await;
    rig.start_replica().await;
    let platform = rig.system(ONLINE).await;
    let mut receipts = platform
        .subscribe(receipts_of(ONLINE))
        .await
        .expect("subscribed");

    postgres.stop().await.expect("stop the database");
    let mut sent = HashSet::new();
    for index in 0..SUBMISSIONS {
        let request_id = uuid::Uuid::new_v4().to_string();
        queue(
            &platform,
            submission_subject("online", ONLINE),
            &submission(&request_id, online_petition(100 + index)),
        )
        .await;
        sent.insert(request_id);
    }
    // Queued, and waiting: nothing is answered while the database is away.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let early = tokio::time::timeout(Duration::from_millis(100), receipts.next()).await;
    assert!(early.is_err(), "answered without a database: {early:?}");
    postgres.resume().await.expect("start the database again");

    let mut answered = HashSet::new();
    while answered.len() < SUBMISSIONS {
        let message = tokio::time::timeout(Duration::from_secs(60), receipts.next())
            .await
            .unwrap_or_else(|_| panic!("{} of {SUBMISSIONS} answered", answered.len()))
            .expect("open");
        let receipt = SubmissionReceipt::decode(message.payload).expect("a receipt");
        accepted(&receipt);
        answered.insert(receipt.request_id);
    }
    assert_eq!(answered, sent);
    let db = sea_orm::Database::connect(url).await.expect("connect");
    let stored = petition::Entity::find().count(&db).await.expect("count");
    assert_eq!(stored, SUBMISSIONS as u64);
    eventually(Duration::from_secs(30), || async {
        (rig.queued().await == 0).then_some(())
    })
    .await;
}
