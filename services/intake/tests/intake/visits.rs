//! Visits as they happen: a collective visit's people, its representatives (Art 20: at most
//! five) and which batch (批次) of its matter it is; a visit above the city that a higher
//! bureau reported (进京访 / 赴省访 / 赴咸访).

use prost::Message;
use tonic::Code;
use xinfang_proto::intake::v1::{PetitionRegistered, RevealRepresentativesRequest};
use xinfang_proto::v1 as proto;

use super::support::{IntakeUnderTest, by, create, id_number};

const CAMPAIGN: &str = "村集体土地被征收三年，补偿款至今未发放到户，请求依法发放。";

fn representative(n: u32) -> proto::PetitionerIdentity {
    proto::PetitionerIdentity {
        kind: proto::PetitionerKind::Person as i32,
        name: format!("代表{n}号"),
        id_card_number: id_number(100 + n),
        phone: format!("1370000{n:04}"),
        address: String::new(),
    }
}

fn group_visit(leader: u32, people: u32, representatives: u32) -> proto::Petition {
    proto::Petition {
        people_count: people,
        representatives: (0..representatives).map(representative).collect(),
        ..by(leader, CAMPAIGN)
    }
}

fn event(message: &async_nats::jetstream::Message) -> PetitionRegistered {
    PetitionRegistered::decode(message.payload.clone()).expect("a PetitionRegistered")
}

#[tokio::test]
async fn a_collective_visit_keeps_five_representatives_and_counts_its_batches() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();

    let first = client
        .create_petition(create(group_visit(1, 30, 5)))
        .await
        .expect("thirty people, five representatives")
        .into_inner();
    assert_eq!(first.representatives.len(), 5);
    // Shown masked, as the petitioner is.
    assert_eq!(first.representatives[0].name, "代***");
    assert!(first.representatives[0].phone.contains("****"));
    assert_eq!(first.visit_batch, 1);

    // The clerk who registered it serves notices on them: in full, with a reason.
    let revealed = client
        .reveal_representatives(RevealRepresentativesRequest {
            case_id: first.case_id.clone(),
            reason: "向代表送达受理告知书".into(),
        })
        .await
        .expect("revealed")
        .into_inner()
        .representatives;
    let names: Vec<&str> = revealed.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["代表0号", "代表1号", "代表2号", "代表3号", "代表4号"]
    );
    assert_eq!(revealed[1].id_card_number, id_number(101));
    let no_reason = client
        .reveal_representatives(RevealRepresentativesRequest {
            case_id: first.case_id.clone(),
            reason: String::new(),
        })
        .await
        .expect_err("a reason is required");
    assert_eq!(no_reason.code(), Code::InvalidArgument);

    // A second group on the same matter, another day's batch.
    let second = client
        .create_petition(create(group_visit(2, 20, 3)))
        .await
        .expect("the second batch")
        .into_inner();
    assert_eq!(
        second
            .relations
            .as_ref()
            .map(|r| r.collective_matter_case_number.as_str()),
        Some(first.case_number.as_str())
    );
    assert_eq!(second.visit_batch, 2);

    // The first group comes back: a repeat of its own case, and the matter's third batch.
    let back = client
        .create_petition(create(group_visit(1, 25, 2)))
        .await
        .expect("the first group again")
        .into_inner();
    assert!(back.relations.as_ref().is_some_and(|r| r.repeat));
    assert_eq!(back.visit_batch, 3);

    // A sixth representative is refused, and nothing is stored.
    let refused = client
        .create_petition(create(group_visit(3, 40, 6)))
        .await
        .expect_err("six representatives");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused
            .message()
            .contains("petition.representatives: at most five"),
        "{}",
        refused.message()
    );
    assert_eq!(intake.petitions_stored().await, 3);

    // The event counts them; who they are stays in intake.
    let events = intake.published(3).await;
    let announced: Vec<(u32, u32)> = events
        .iter()
        .map(event)
        .map(|e| (e.representative_count, e.visit_batch))
        .collect();
    assert_eq!(announced, [(5, 1), (3, 2), (2, 3)]);
    for message in &events {
        let payload = String::from_utf8_lossy(&message.payload);
        assert!(!payload.contains("代表"), "a representative on the event");
    }
}

#[tokio::test]
async fn a_visit_to_beijing_is_marked_only_as_a_higher_bureau_reports_it() {
    let intake = IntakeUnderTest::on_sqlite().await;
    let mut client = intake.client.clone();
    let reported = proto::Petition {
        source: Some(proto::PetitionSource {
            level: proto::SourceLevel::National as i32,
            upstream_reference: "国信转〔2026〕88号".into(),
            disposition: proto::UpstreamDisposition::Forwarded as i32,
            upstream_deadline: None,
        }),
        escalated_to: proto::EscalatedTo::Beijing as i32,
        ..by(7, "在京反映拆迁安置问题。")
    };
    let case = client
        .create_petition(create(reported))
        .await
        .expect("a visit to Beijing, sent down")
        .into_inner();
    assert_eq!(case.escalated_to(), proto::EscalatedTo::Beijing);
    let events = intake.published(1).await;
    assert_eq!(
        event(&events[0]).escalated_to(),
        proto::EscalatedTo::Beijing
    );

    let local = proto::Petition {
        escalated_to: proto::EscalatedTo::Province as i32,
        ..by(8, "到省里反映问题。")
    };
    let refused = client
        .create_petition(create(local))
        .await
        .expect_err("only a higher bureau reports it");
    assert!(
        refused.message().contains("petition.escalated_to"),
        "{}",
        refused.message()
    );
}
