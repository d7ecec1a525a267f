//! Registering a petition: stored once, numbered, announced once, without identity.

use std::time::Duration;

use futures::future::join_all;
use prost::Message;
use sea_orm::{EntityTrait, QueryOrder};
use tonic::Code;
use xinfang_intake::store::petition;
use xinfang_platform::envelope::Envelope;
use xinfang_proto::intake::v1::{
    CaseNumberLedger, GetPetitionRequest, ListPetitionsRequest, ReconcileCaseNumbersRequest,
    get_petition_request::Key,
};
use xinfang_proto::subjects;
use xinfang_proto::v1 as proto;

use super::support::{ADDRESS, ID_CARD, IntakeUnderTest, NAME, PHONE, create, eventually, visit};

fn current_year() -> i32 {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+8))
        .year()
}

async fn a_petition_is_registered_numbered_and_announced_once(intake: IntakeUnderTest) {
    let mut client = intake.client.clone();
    let answer = client
        .create_petition(create(visit("征地补偿款未发放")))
        .await
        .expect("registered")
        .into_inner();

    assert_eq!(
        answer.case_number,
        format!("610481-{}-000001", current_year())
    );
    assert_eq!(intake.petitions_stored().await, 1);

    let messages = intake.published(1).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.subject.as_str(), subjects::PETITION_REGISTERED);
    let envelope = Envelope::from_headers(message.headers.as_ref()).expect("CloudEvents headers");
    assert_eq!(envelope.case_id.to_string(), answer.case_id);
    assert_eq!(envelope.event_type, "xinfang.intake.v1.PetitionRegistered");
    assert_eq!(envelope.source, "/xinfang/intake");
    let message_id = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Msg-Id"))
        .map(|v| v.as_str().to_owned());
    assert_eq!(message_id, Some(envelope.event_id.to_string()));

    let event = xinfang_proto::intake::v1::PetitionRegistered::decode(message.payload.clone())
        .expect("protobuf payload");
    assert_eq!(event.case_id, answer.case_id);
    assert_eq!(event.case_number, answer.case_number);
    assert_eq!(event.territory_code, "dongcheng");
    assert_eq!(event.petitioner_kind, proto::PetitionerKind::Person as i32);
    for personal in [NAME, ID_CARD, PHONE, ADDRESS] {
        let leaked = message
            .payload
            .windows(personal.len())
            .any(|w| w == personal.as_bytes());
        assert!(!leaked, "the event carries {personal:?}");
    }

    // The relay marks the row after the broker's acknowledgement, which a
    // subscriber can see first.
    let outbox = eventually(Duration::from_secs(10), || async {
        let rows = intake.outbox_rows().await;
        rows.iter()
            .all(|row| row.published_at.is_some())
            .then_some(rows)
    })
    .await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].event_id, envelope.event_id);
}

#[tokio::test]
async fn a_petition_is_registered_numbered_and_announced_once_on_postgres() {
    a_petition_is_registered_numbered_and_announced_once(IntakeUnderTest::on_postgres().await)
        .await;
}

#[tokio::test]
async fn a_petition_is_registered_numbered_and_announced_once_on_sqlite() {
    a_petition_is_registered_numbered_and_announced_once(IntakeUnderTest::on_sqlite().await).await;
}

#[tokio::test]
async fn a_registered_petition_reads_back_with_the_identity_masked() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();
    let created = client
        .create_petition(create(visit("拖欠工资")))
        .await
        .expect("registered")
        .into_inner();

    for key in [
        Key::CaseId(created.case_id.clone()),
        Key::CaseNumber(created.case_number.clone()),
    ] {
        let read = client
            .get_petition(GetPetitionRequest { key: Some(key) })
            .await
            .expect("found")
            .into_inner();
        // The query code is given once, on the registering answer.
        assert_eq!(
            read,
            proto::Petition {
                query_code: String::new(),
                ..created.clone()
            }
        );
    }
    let identity = created.petitioner.expect("identity");
    assert_eq!(identity.name, "张*");
    assert_eq!(identity.id_card_number, "610481********1233");
    assert_eq!(identity.phone, "138****5678");
    assert_eq!(identity.address, "兴平市东城街****");
    assert_eq!(created.title, "拖欠工资");
}

#[tokio::test]
async fn the_same_request_id_twice_registers_one_case_and_answers_the_same() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();
    let request = create(visit("重复提交"));
    let first = client
        .create_petition(request.clone())
        .await
        .expect("first")
        .into_inner();
    let second = client
        .create_petition(request)
        .await
        .expect("retry")
        .into_inner();

    // The same petition; its query code is new, the first answer's having been lost.
    assert_ne!(first.query_code, second.query_code);
    assert_eq!(
        first,
        proto::Petition {
            query_code: first.query_code.clone(),
            ..second
        }
    );
    assert_eq!(intake.petitions_stored().await, 1);
    assert_eq!(intake.outbox_rows().await.len(), 1);
    assert_eq!(intake.published(1).await.len(), 1);
}

#[tokio::test]
async fn concurrent_retries_of_one_request_register_one_case() {
    let intake = IntakeUnderTest::on_postgres().await;
    let request = create(visit("并发重试"));
    let answers = join_all((0..8).map(|_| {
        let mut client = intake.client.clone();
        let request = request.clone();
        async move {
            client
                .create_petition(request)
                .await
                .map(|r| r.into_inner().case_id)
        }
    }))
    .await;
    let case_ids: std::collections::BTreeSet<String> = answers
        .into_iter()
        .map(|answer| answer.expect("every retry answered"))
        .collect();
    assert_eq!(case_ids.len(), 1);
    assert_eq!(intake.petitions_stored().await, 1);
}

#[tokio::test]
async fn a_used_request_id_with_a_different_petition_is_already_exists() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();
    let mut request = create(visit("第一件"));
    client
        .create_petition(request.clone())
        .await
        .expect("first");
    request.petition = Some(visit("另一件"));
    let refused = client
        .create_petition(request)
        .await
        .expect_err("reused request id");
    assert_eq!(refused.code(), Code::AlreadyExists);
    assert_eq!(intake.petitions_stored().await, 1);
}

async fn register_concurrently(intake: &IntakeUnderTest, clients: usize, per_client: usize) {
    join_all((0..clients).map(|c| {
        let mut client = intake.client.clone();
        async move {
            for i in 0..per_client {
                client
                    .create_petition(create(visit(&format!("信访 {c}-{i}"))))
                    .await
                    .expect("registered");
            }
        }
    }))
    .await;
}

async fn case_numbers(intake: &IntakeUnderTest) -> Vec<String> {
    petition::Entity::find()
        .order_by_asc(petition::Column::CaseNumber)
        .all(&intake.db)
        .await
        .expect("petitions")
        .into_iter()
        .map(|p| p.case_number)
        .collect()
}

async fn ledger(intake: &IntakeUnderTest) -> CaseNumberLedger {
    intake
        .client
        .clone()
        .reconcile_case_numbers(ReconcileCaseNumbersRequest { year: 0 })
        .await
        .expect("the ledger")
        .into_inner()
}

#[tokio::test]
async fn registrations_from_32_clients_get_unique_numbers_every_one_accounted_for() {
    let intake = IntakeUnderTest::on_postgres().await;
    let (clients, per_client) = (32, 10);
    register_concurrently(&intake, clients, per_client).await;

    let numbers = case_numbers(&intake).await;
    let unique: std::collections::BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(unique.len(), clients * per_client);
    let ledger = ledger(&intake).await;
    assert!(ledger.balanced, "{ledger:?}");
    assert_eq!(ledger.registered, (clients * per_client) as u64);
    // Nothing failed, so nothing was voided: the numbers are 1 to 320.
    assert_eq!(ledger.highest_drawn, (clients * per_client) as u64);
    assert_eq!(ledger.voided, []);
    assert_eq!(ledger.pending, Vec::<u64>::new());
    assert_eq!(
        intake.published(clients * per_client).await.len(),
        clients * per_client
    );
}

#[tokio::test]
async fn a_number_drawn_for_a_registration_that_did_not_happen_is_recorded_void() {
    let intake = IntakeUnderTest::on_postgres().await;
    let request = create(visit("同一件"));
    // Concurrent retries of one request: one registers, the others may each have drawn a
    // number first.
    join_all((0..8).map(|_| {
        let mut client = intake.client.clone();
        let request = request.clone();
        async move { client.create_petition(request).await.expect("answered") }
    }))
    .await;
    let ledger = ledger(&intake).await;
    assert!(ledger.balanced, "{ledger:?}");
    assert_eq!(ledger.registered, 1);
    assert_eq!(ledger.voided.len() as u64, ledger.highest_drawn - 1);
    for void in &ledger.voided {
        assert_eq!(
            void.reason, "the request was a retry of one registered meanwhile",
            "{void:?}"
        );
    }
}

#[tokio::test]
async fn on_sqlite_concurrent_registrations_get_gap_free_numbers() {
    let intake = IntakeUnderTest::on_sqlite().await;
    let (clients, per_client) = (8, 10);
    register_concurrently(&intake, clients, per_client).await;
    let expected: Vec<String> = (1..=clients * per_client)
        .map(|n| format!("610481-{}-{n:06}", current_year()))
        .collect();
    assert_eq!(case_numbers(&intake).await, expected);
    let ledger = ledger(&intake).await;
    assert!(ledger.balanced && ledger.voided.is_empty(), "{ledger:?}");
}

#[tokio::test]
async fn petitions_are_listed_a_page_at_a_time_without_repeats() {
    let intake = IntakeUnderTest::on_sqlite().await;
    let mut client = intake.client.clone();
    for i in 0..5 {
        client
            .create_petition(create(visit(&format!("第{i}件"))))
            .await
            .expect("registered");
    }
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_petitions(ListPetitionsRequest {
                page_size: 2,
                page_token,
                filter: None,
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.petitions.len() <= 2);
        seen.extend(page.petitions.into_iter().map(|p| p.title));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen, ["第0件", "第1件", "第2件", "第3件", "第4件"]);
}

#[tokio::test]
async fn after_an_upgrade_in_mid_year_numbering_continues_after_the_old_counter() {
    use sea_orm::ConnectionTrait;
    let intake = IntakeUnderTest::on_postgres().await;
    // An older build drew numbers from a counter row; 41 of this year are given.
    intake
        .db
        .execute_unprepared(&format!(
            "INSERT INTO case_number_sequence (region_code, year, last_value) VALUES ('610481', {}, 41)",
            current_year()
        ))
        .await
        .expect("the old counter");
    let registered = intake
        .client
        .clone()
        .create_petition(create(visit("升级之后")))
        .await
        .expect("registered")
        .into_inner();
    assert_eq!(
        registered.case_number,
        format!("610481-{}-000042", current_year())
    );
}

#[tokio::test]
async fn a_number_a_petition_holds_is_never_recorded_void() {
    let intake = IntakeUnderTest::on_postgres().await;
    let registered = intake
        .client
        .clone()
        .create_petition(create(visit("已登记")))
        .await
        .expect("registered")
        .into_inner();
    // As after a commit whose answer was lost: the caller voids a number it thinks unused.
    let number = xinfang_intake::case_number::CaseNumber::parse(&registered.case_number)
        .expect("a case number");
    xinfang_intake::numbering::void(
        &intake.db,
        &number,
        "the registration failed: connection reset",
        time::OffsetDateTime::now_utc(),
    )
    .await
    .expect("void");
    let ledger = ledger(&intake).await;
    assert!(ledger.balanced, "{ledger:?}");
    assert_eq!(ledger.registered, 1);
    assert_eq!(ledger.voided, []);
}

#[tokio::test]
async fn attachments_are_kept_by_reference_and_never_announced() {
    let intake = IntakeUnderTest::on_sqlite().await;
    let mut client = intake.client.clone();
    let mut petition = visit("征地补偿");
    petition.attachments = vec![proto::Attachment {
        name: "张三的补偿协议.pdf".into(),
        media_type: "application/pdf".into(),
        size_bytes: 1_048_576,
        sha256: "ab".repeat(32),
    }];
    let created = client
        .create_petition(create(petition))
        .await
        .expect("registered")
        .into_inner();
    let read = client
        .get_petition(GetPetitionRequest {
            key: Some(Key::CaseId(created.case_id.clone())),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(read.attachments.len(), 1);
    assert_eq!(read.attachments[0].name, "张三的补偿协议.pdf");
    assert_eq!(
        read,
        proto::Petition {
            query_code: String::new(),
            ..created
        }
    );
    // The file's name may name people: it stays off the event.
    let jetstream = async_nats::jetstream::new(intake.nats.client().await.expect("connect"));
    let stored =
        xinfang_testkit::stored_messages(&jetstream, subjects::INTAKE_STREAM.name, 1).await;
    assert_eq!(stored.len(), 1);
    assert!(!String::from_utf8_lossy(&stored[0].payload).contains("补偿协议"));
}
