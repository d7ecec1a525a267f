//! One case, many upstreams: a petition a higher bureau sends down is proposed for the case
//! of the same matter (the same upstream reference, or the same petitioner with
//! near-identical text), and a clerk links it; the case then carries every bureau's
//! reference, and the link is announced for supervision and statistics.

use prost::{Message, Name};
use tonic::Code;
use xinfang_proto::intake::v1::{LinkUpstreamRequest, PetitionRegistered, UpstreamLinked};
use xinfang_proto::v1 as proto;

use sea_orm::{ActiveValue::Set, EntityTrait};
use xinfang_intake::store::petition_scope;

use super::support::{IntakeUnderTest, by, create};

const MATTER: &str = "村里征地补偿款被截留三年，至今未发放到户，请求依法查处并发放。";

fn sent_down(
    level: proto::SourceLevel,
    reference: &str,
    person: u32,
    content: &str,
) -> proto::Petition {
    proto::Petition {
        channel: proto::Channel::Online as i32,
        source: Some(proto::PetitionSource {
            level: level as i32,
            upstream_reference: reference.into(),
            disposition: proto::UpstreamDisposition::Assigned as i32,
            upstream_deadline: Some(proto::CalendarDate {
                year: 2027,
                month: 1,
                day: 15,
            }),
        }),
        ..by(person, content)
    }
}

/// Routing's decision as intake learns it: held at the bureau (`xfj`), or with a unit.
async fn routed(intake: &IntakeUnderTest, petition: &proto::Petition, unit: Option<&str>) {
    let (unit_code, unit_path) = match unit {
        None => ("xfj".to_owned(), "/xfj/".to_owned()),
        Some(unit) => (unit.to_owned(), format!("/xfj/{unit}/")),
    };
    petition_scope::Entity::insert(petition_scope::ActiveModel {
        case_id: Set(petition.case_id.parse().expect("a case id")),
        unit_code: Set(unit_code),
        unit_path: Set(unit_path),
        revision: Set(1),
        held: Set(unit.is_none()),
    })
    .exec_without_returning(&intake.db)
    .await
    .expect("scope");
}

fn link(case: &proto::Petition, into: &proto::Petition) -> LinkUpstreamRequest {
    LinkUpstreamRequest {
        case_id: case.case_id.clone(),
        into_case_id: into.case_id.clone(),
        reason: "国家局与省局交办的是同一事项".into(),
    }
}

fn proposal(petition: &proto::Petition) -> Option<(String, proto::LinkReason)> {
    let link = petition.relations.as_ref()?.proposed_link.as_ref()?;
    Some((link.case_number.clone(), link.reason()))
}

#[tokio::test]
async fn a_petition_sent_down_again_is_proposed_for_the_case_of_its_matter() {
    let intake = IntakeUnderTest::on_sqlite().await;
    let mut client = intake.client.clone();
    let provincial = client
        .create_petition(create(sent_down(
            proto::SourceLevel::Provincial,
            "陕信交〔2026〕12号",
            1,
            MATTER,
        )))
        .await
        .expect("the provincial bureau's")
        .into_inner();
    assert_eq!(proposal(&provincial), None);

    // The same petitioner went to Beijing too: the national bureau's copy of the matter.
    let national = client
        .create_petition(create(sent_down(
            proto::SourceLevel::National,
            "国信交〔2026〕301号",
            1,
            MATTER,
        )))
        .await
        .expect("the national bureau's")
        .into_inner();
    assert_eq!(
        proposal(&national),
        Some((
            provincial.case_number.clone(),
            proto::LinkReason::SamePetitionerSimilarContent
        ))
    );
    assert!(
        national
            .notices
            .iter()
            .any(|notice| notice.contains(&provincial.case_number)
                && notice.contains("LinkUpstream")),
        "{:?}",
        national.notices
    );

    // The national bureau sends its case again, reworded, through another petitioner's
    // account: the reference alone finds it.
    let again = client
        .create_petition(create(sent_down(
            proto::SourceLevel::National,
            "国信交〔2026〕301号",
            2,
            "反映土地问题。",
        )))
        .await
        .expect("sent again")
        .into_inner();
    assert_eq!(
        proposal(&again),
        Some((
            national.case_number.clone(),
            proto::LinkReason::SameUpstreamReference
        ))
    );

    // The same petitioner coming again in person is a repeat, not an upstream to link.
    let in_person = client
        .create_petition(create(by(1, MATTER)))
        .await
        .expect("a repeat visit")
        .into_inner();
    assert_eq!(proposal(&in_person), None);
    assert!(in_person.relations.expect("relations").repeat);

    // Routing holds what the events propose.
    let events: Vec<PetitionRegistered> = intake
        .published(4)
        .await
        .iter()
        .map(|message| PetitionRegistered::decode(message.payload.clone()).expect("an event"))
        .collect();
    let proposed: Vec<Option<(String, i32)>> = events
        .iter()
        .map(|event| {
            event
                .proposed_link
                .as_ref()
                .map(|link| (link.case_number.clone(), link.reason))
        })
        .collect();
    assert_eq!(
        proposed,
        [
            None,
            Some((
                provincial.case_number.clone(),
                proto::LinkReason::SamePetitionerSimilarContent as i32
            )),
            Some((
                national.case_number.clone(),
                proto::LinkReason::SameUpstreamReference as i32
            )),
            None,
        ]
    );
}

#[tokio::test]
async fn a_clerk_links_a_petition_into_the_case_that_carries_its_matter() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();
    let mut register = async |petition| {
        client
            .create_petition(create(petition))
            .await
            .expect("registered")
            .into_inner()
    };
    let provincial = register(sent_down(
        proto::SourceLevel::Provincial,
        "陕信交〔2026〕12号",
        1,
        MATTER,
    ))
    .await;
    let national = register(sent_down(
        proto::SourceLevel::National,
        "国信交〔2026〕301号",
        1,
        MATTER,
    ))
    .await;
    let prefecture = register(sent_down(
        proto::SourceLevel::Prefecture,
        "咸信转〔2026〕7号",
        3,
        "另一件事。",
    ))
    .await;
    let local = register(by(4, MATTER)).await;
    let dongcheng = register(sent_down(
        proto::SourceLevel::Provincial,
        "陕信转〔2026〕40号",
        5,
        "又一件事。",
    ))
    .await;
    let mut client = intake.client.clone();
    // Routing has not decided on the national copy yet: it may be on its way to a unit.
    let undecided = client
        .link_upstream(link(&national, &provincial))
        .await
        .expect_err("not decided yet");
    assert_eq!(undecided.code(), Code::FailedPrecondition);
    assert!(
        undecided.message().contains("has not decided"),
        "{}",
        undecided.message()
    );
    for held in [&provincial, &national, &prefecture, &local] {
        routed(&intake, held, None).await;
    }
    routed(&intake, &dongcheng, Some("dongcheng")).await;

    let linked = client
        .link_upstream(link(&national, &provincial))
        .await
        .expect("linked")
        .into_inner();
    let relations = linked.relations.clone().expect("relations");
    assert_eq!(relations.linked_to_case_number, provincial.case_number);
    // A retry answers the same, and announces nothing twice.
    let again = client
        .link_upstream(link(&national, &provincial))
        .await
        .expect("the same link again")
        .into_inner();
    assert_eq!(again, linked);

    let refusal = |status: tonic::Status| (status.code(), status.message().to_owned());
    let cases = [
        // Something is linked into the provincial case: it carries the matter.
        (link(&provincial, &prefecture), "linked into case"),
        // The national petition is linked already.
        (link(&national, &prefecture), "is already linked into case"),
        // The prefecture's petition would go into a case that is itself linked.
        (link(&prefecture, &national), "is itself linked into case"),
        // Registered here: no upstream.
        (
            link(&local, &provincial),
            "not sent down by a higher bureau",
        ),
        (
            link(&prefecture, &prefecture),
            "cannot be linked into itself",
        ),
        // With a unit: the unit's case.
        (
            link(&dongcheng, &provincial),
            "was routed to unit dongcheng",
        ),
    ];
    for (request, why) in cases {
        let (code, message) = refusal(client.link_upstream(request).await.expect_err("refused"));
        assert_eq!(code, Code::FailedPrecondition, "{message}");
        assert!(message.contains(why), "{message} (expected {why:?})");
    }
    let unknown = client
        .link_upstream(LinkUpstreamRequest {
            into_case_id: uuid::Uuid::now_v7().to_string(),
            ..link(&prefecture, &provincial)
        })
        .await
        .expect_err("no such case");
    assert_eq!(unknown.code(), Code::NotFound);
    let malformed = client
        .link_upstream(LinkUpstreamRequest {
            case_id: "national".into(),
            into_case_id: provincial.case_id.clone(),
            reason: " ".into(),
        })
        .await
        .expect_err("malformed");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert!(
        malformed.message().contains("case_id") && malformed.message().contains("reason"),
        "{}",
        malformed.message()
    );

    // One event for the one link: the case, the petition, and the bureau's part.
    let messages = intake.published(6).await;
    let links: Vec<UpstreamLinked> = messages
        .iter()
        .filter(|message| {
            message
                .headers
                .as_ref()
                .and_then(|headers| headers.get("ce-type"))
                .is_some_and(|kind| kind.as_str() == UpstreamLinked::full_name())
        })
        .map(|message| UpstreamLinked::decode(message.payload.clone()).expect("an event"))
        .collect();
    assert_eq!(links.len(), 1);
    let event = &links[0];
    assert_eq!(
        (
            event.case_id.as_str(),
            event.case_number.as_str(),
            event.linked_case_id.as_str(),
            event.linked_case_number.as_str(),
        ),
        (
            provincial.case_id.as_str(),
            provincial.case_number.as_str(),
            national.case_id.as_str(),
            national.case_number.as_str(),
        )
    );
    assert_eq!(event.source, national.source);
    let payload = String::from_utf8_lossy(&messages[5].payload).into_owned();
    assert!(
        !payload.contains("国家局与省局"),
        "the clerk's words stay in intake"
    );

    // The reason is kept in the audit, against the linked petition; a refusal is there too.
    let audit = intake.audit_entries().await;
    let refusals: Vec<&str> = audit
        .iter()
        .filter(|entry| !entry.allowed && entry.note.starts_with("link refused"))
        .map(|entry| entry.note.as_str())
        .collect();
    assert_eq!(refusals.len(), 8, "{refusals:?}");
    assert!(refusals[0].contains("has not decided"), "{refusals:?}");
    let noted: Vec<&str> = audit
        .iter()
        .filter(|entry| entry.case_id.map(|id| id.to_string()) == Some(national.case_id.clone()))
        .filter(|entry| entry.note.starts_with("linked"))
        .map(|entry| entry.note.as_str())
        .collect();
    assert_eq!(
        noted,
        [format!(
            "linked into case {}: 国家局与省局交办的是同一事项",
            provincial.case_number
        )]
    );
}
