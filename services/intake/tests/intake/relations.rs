//! A new petition and the earlier ones: repeats linked to the first case, skip-level and
//! first-time flagged, other petitioners' near-identical texts grouped as one collective
//! matter — each on the registered event for routing and statistics.

use prost::Message;
use xinfang_proto::intake::v1::{
    GetPetitionRequest, PetitionRegistered, get_petition_request::Key,
};
use xinfang_proto::v1 as proto;

use super::support::{IntakeUnderTest, by, create};

const WAGES: &str = "某建筑公司拖欠我们二十名农民工工资共计三十万元，至今未付，请求督促支付。";
const WAGES_RETOLD: &str = "建筑公司至今拖欠我们农民工工资共计３０万元未付，请求有关部门督促支付";
const DELIVERY: &str =
    "幸福家园小区开发商延期交房已超过一年，业主多次反映无果，请求责令开发商按合同交房并赔偿。";

async fn register(intake: &IntakeUnderTest, petition: proto::Petition) -> proto::Petition {
    intake
        .client
        .clone()
        .create_petition(create(petition))
        .await
        .expect("registered")
        .into_inner()
}

fn relations(petition: &proto::Petition) -> proto::PetitionRelations {
    petition.relations.clone().expect("relations")
}

#[tokio::test]
async fn the_same_petitioners_same_matter_is_linked_to_the_first_case_and_flagged_skip_level_from_above()
 {
    let intake = IntakeUnderTest::on_postgres().await;
    let first = register(&intake, by(1, WAGES)).await;
    assert_eq!(
        relations(&first),
        proto::PetitionRelations {
            first_time: true,
            ..Default::default()
        }
    );
    // Another person's unrelated matter is first-time too.
    let unrelated = register(&intake, by(2, DELIVERY)).await;
    assert!(relations(&unrelated).first_time);

    let again = register(&intake, by(1, WAGES_RETOLD)).await;
    assert_eq!(
        relations(&again),
        proto::PetitionRelations {
            repeat_of_case_number: first.case_number.clone(),
            repeat: true,
            ..Default::default()
        }
    );
    assert!(
        again
            .notices
            .iter()
            .any(|n| n.contains("重复信访") && n.contains(&first.case_number)),
        "{:?}",
        again.notices
    );

    // The same matter, forwarded down by the provincial bureau: a repeat of the matter's
    // first case, skip-level (the matter was brought here locally), and proposed for
    // linking into that case, which will answer to the provincial bureau too.
    let mut from_province = by(1, WAGES);
    from_province.source = Some(proto::PetitionSource {
        level: proto::SourceLevel::Provincial as i32,
        upstream_reference: "陕信转〔2026〕118号".into(),
        disposition: proto::UpstreamDisposition::Forwarded as i32,
        upstream_deadline: None,
    });
    let skipped = register(&intake, from_province).await;
    assert_eq!(
        relations(&skipped),
        proto::PetitionRelations {
            repeat_of_case_number: first.case_number.clone(),
            repeat: true,
            skip_level: true,
            proposed_link: Some(proto::UpstreamLinkProposal {
                case_id: first.case_id.clone(),
                case_number: first.case_number.clone(),
                reason: proto::LinkReason::SamePetitionerSimilarContent as i32,
            }),
            ..Default::default()
        }
    );

    // The events say the same, for routing and statistics.
    let events: Vec<PetitionRegistered> = intake
        .published(4)
        .await
        .iter()
        .map(|message| PetitionRegistered::decode(message.payload.clone()).expect("event"))
        .collect();
    let flags: Vec<(bool, String, bool)> = events
        .iter()
        .map(|e| (e.first_time, e.repeat_of_case_number.clone(), e.skip_level))
        .collect();
    assert_eq!(
        flags,
        [
            (true, String::new(), false),
            (true, String::new(), false),
            (false, first.case_number.clone(), false),
            (false, first.case_number.clone(), true),
        ]
    );
    assert_eq!(events[2].repeat_of_case_id, first.case_id);
}

#[tokio::test]
async fn near_identical_petitions_of_six_petitioners_make_one_collective_matter() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut registered = Vec::new();
    for person in 10..16 {
        // Each writes it a little differently.
        let text = format!("{DELIVERY}（业主{person}号楼）");
        registered.push(register(&intake, by(person, &text)).await);
    }
    let root = &registered[0];
    assert_eq!(relations(root).collective_matter_case_number, "");
    for member in &registered[1..] {
        assert_eq!(
            relations(member).collective_matter_case_number,
            root.case_number,
            "{}",
            member.case_number
        );
        // Not one petitioner's repeat: each is first-time.
        assert!(relations(member).first_time);
    }
    // A different matter of the same place stays out.
    let other = register(&intake, by(20, WAGES)).await;
    assert_eq!(relations(&other).collective_matter_case_number, "");

    // Read now, the first case and the last both name the first.
    for member in [&registered[0], &registered[5]] {
        let read = intake
            .client
            .clone()
            .get_petition(GetPetitionRequest {
                key: Some(Key::CaseId(member.case_id.clone())),
            })
            .await
            .expect("read")
            .into_inner();
        assert_eq!(
            relations(&read).collective_matter_case_number,
            root.case_number
        );
        assert!(relations(&read).collective_matter);
    }
}
