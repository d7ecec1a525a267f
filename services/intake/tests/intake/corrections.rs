//! Correcting a registration: a wrong matter category or territory, a typo. Only the fields
//! given change, each checked as at registration; the reason and each field before and
//! after are kept; `PetitionCorrected` carries the routing facts, never the texts.

use prost::{Message, Name};
use tonic::Code;
use xinfang_proto::intake::v1::{
    CorrectPetitionRequest, ListCorrectionsRequest, PetitionCorrected,
};

use super::support::{IntakeUnderTest, by, create};

fn correct(case_id: &str) -> CorrectPetitionRequest {
    CorrectPetitionRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        case_id: case_id.to_owned(),
        reason: "登记时误选了问题类别".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_clerk_corrects_the_category_and_a_typo_with_the_reason_kept() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();
    let registered = client
        .create_petition(create(by(1, "征地补尝款至今未发放。")))
        .await
        .expect("registered")
        .into_inner();
    assert_eq!(registered.matter_category, "land-acquisition");

    let request = CorrectPetitionRequest {
        matter_category: Some("housing".into()),
        content: Some("征地补偿款至今未发放。".into()),
        // As registered: not a correction.
        territory_code: Some(registered.territory_code.clone()),
        ..correct(&registered.case_id)
    };
    let corrected = client
        .correct_petition(request.clone())
        .await
        .expect("corrected")
        .into_inner();
    assert_eq!(
        (
            corrected.matter_category.as_str(),
            corrected.content.as_str()
        ),
        ("housing", "征地补偿款至今未发放。")
    );
    assert_eq!(corrected.territory_code, registered.territory_code);
    // A retry answers the same, and corrects nothing twice.
    let again = client
        .correct_petition(request.clone())
        .await
        .expect("the same correction again")
        .into_inner();
    assert_eq!(again, corrected);
    let reused = client
        .correct_petition(CorrectPetitionRequest {
            title: Some("另一个标题".into()),
            ..request.clone()
        })
        .await
        .expect_err("another correction under a used request id");
    assert_eq!(reused.code(), Code::AlreadyExists);

    let history = client
        .list_corrections(ListCorrectionsRequest {
            case_id: registered.case_id.clone(),
        })
        .await
        .expect("the corrections")
        .into_inner()
        .corrections;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].reason, "登记时误选了问题类别");
    let fields: Vec<(&str, &str, &str)> = history[0]
        .fields
        .iter()
        .map(|f| (f.field.as_str(), f.before.as_str(), f.after.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("matter_category", "land-acquisition", "housing"),
            (
                "content",
                "征地补尝款至今未发放。",
                "征地补偿款至今未发放。"
            ),
        ]
    );

    // The event: the routing facts and which fields changed, not the texts.
    let messages = intake.published(2).await;
    let message = &messages[1];
    let kind = message
        .headers
        .as_ref()
        .and_then(|headers| headers.get("ce-type"))
        .map(|kind| kind.as_str().to_owned());
    assert_eq!(
        kind.as_deref(),
        Some(PetitionCorrected::full_name().as_str())
    );
    let event = PetitionCorrected::decode(message.payload.clone()).expect("an event");
    assert_eq!(
        (
            event.revision,
            event.matter_category.as_str(),
            event.territory_code.as_str(),
            event.corrected_fields.clone(),
        ),
        (
            1,
            "housing",
            registered.territory_code.as_str(),
            vec!["matter_category".to_owned(), "content".to_owned()]
        )
    );
    assert!(!String::from_utf8_lossy(&message.payload).contains("征地"));

    let audit = intake.audit_entries().await;
    assert!(
        audit
            .iter()
            .any(|entry| entry.note == "corrected matter_category, content: 登记时误选了问题类别"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn a_wrong_correction_is_refused_naming_each_field_and_changes_nothing() {
    let intake = IntakeUnderTest::on_sqlite().await;
    let mut client = intake.client.clone();
    let registered = client
        .create_petition(create(by(2, "反映问题。")))
        .await
        .expect("registered")
        .into_inner();
    let refused = |request: CorrectPetitionRequest| {
        let mut client = client.clone();
        async move { client.correct_petition(request).await.expect_err("refused") }
    };
    let status = refused(CorrectPetitionRequest {
        reason: String::new(),
        matter_category: Some("Housing!".into()),
        title: Some("标题\u{202E}反转".into()),
        ..correct(&registered.case_id)
    })
    .await;
    assert_eq!(status.code(), Code::InvalidArgument);
    for field in ["reason", "matter_category", "title"] {
        assert!(
            status.message().contains(field),
            "{field}: {}",
            status.message()
        );
    }
    let nothing = refused(correct(&registered.case_id)).await;
    assert_eq!(nothing.code(), Code::InvalidArgument);
    assert!(
        nothing.message().contains("at least one field"),
        "{}",
        nothing.message()
    );
    let same = refused(CorrectPetitionRequest {
        matter_category: Some(registered.matter_category.clone()),
        ..correct(&registered.case_id)
    })
    .await;
    assert_eq!(same.code(), Code::InvalidArgument);
    assert!(
        same.message().contains("nothing to correct"),
        "{}",
        same.message()
    );
    let unknown = refused(CorrectPetitionRequest {
        title: Some("新标题".into()),
        ..correct(&uuid::Uuid::now_v7().to_string())
    })
    .await;
    assert_eq!(unknown.code(), Code::NotFound);

    let history = client
        .list_corrections(ListCorrectionsRequest {
            case_id: registered.case_id.clone(),
        })
        .await
        .expect("the corrections")
        .into_inner()
        .corrections;
    assert_eq!(history, []);
    assert_eq!(intake.published(1).await.len(), 1, "only the registration");
    // What was refused once the case was read is on the record, with why.
    let refused: Vec<String> = intake
        .audit_entries()
        .await
        .into_iter()
        .filter(|entry| !entry.allowed)
        .map(|entry| entry.note)
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].contains("nothing to correct"), "{refused:?}");
    assert!(
        refused[1].contains("no petition with case id"),
        "{refused:?}"
    );
}
