//! Finding petitions: by petitioner (through the keyed hashes, however the number is
//! typed), upstream reference, period and channel; a wrong condition names its field.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tonic::Code;
use xinfang_platform::auth::audit;
use xinfang_proto::intake::v1::{ListPetitionsRequest, PetitionFilter};
use xinfang_proto::v1 as proto;

use super::support::{IntakeUnderTest, by, create, id_number};

async fn found(
    intake: &IntakeUnderTest,
    filter: PetitionFilter,
) -> Result<Vec<String>, tonic::Status> {
    let mut numbers: Vec<String> = intake
        .client
        .clone()
        .list_petitions(ListPetitionsRequest {
            filter: Some(filter),
            ..Default::default()
        })
        .await?
        .into_inner()
        .petitions
        .into_iter()
        .map(|petition| petition.title)
        .collect();
    numbers.sort();
    Ok(numbers)
}

fn titled(title: &str, petition: proto::Petition) -> proto::Petition {
    proto::Petition {
        title: title.into(),
        ..petition
    }
}

#[tokio::test]
async fn petitions_are_found_by_petitioner_reference_period_and_channel() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();
    let mut from_province = titled("甲-省转", by(1, "村道硬化工程质量差"));
    from_province.source = Some(proto::PetitionSource {
        level: proto::SourceLevel::Provincial as i32,
        upstream_reference: "陕信转〔2026〕7号".into(),
        disposition: proto::UpstreamDisposition::Forwarded as i32,
        upstream_deadline: None,
    });
    let mut by_letter = titled("乙-来信", by(2, "小区物业收费不合理"));
    by_letter.channel = proto::Channel::Letter as i32;
    for petition in [
        titled("甲-来访", by(1, "拖欠工资")),
        from_province,
        by_letter,
    ] {
        client
            .create_petition(create(petition))
            .await
            .expect("registered");
    }

    // Typed with full-width digits and spaces, as an input method may.
    let typed: String = id_number(1)
        .chars()
        .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c))
        .collect();
    let by_id = PetitionFilter {
        petitioner_id_card_number: format!(" {typed} "),
        ..Default::default()
    };
    assert_eq!(
        found(&intake, by_id).await.expect("found"),
        ["甲-来访", "甲-省转"]
    );
    let by_phone = PetitionFilter {
        petitioner_phone: "139-0000-0002".into(),
        ..Default::default()
    };
    assert_eq!(found(&intake, by_phone).await.expect("found"), ["乙-来信"]);
    let by_reference = PetitionFilter {
        upstream_reference: "陕信转〔2026〕7号".into(),
        ..Default::default()
    };
    assert_eq!(
        found(&intake, by_reference).await.expect("found"),
        ["甲-省转"]
    );
    let letters_of_one = PetitionFilter {
        petitioner_id_card_number: id_number(1),
        channel: proto::Channel::Letter as i32,
        ..Default::default()
    };
    assert_eq!(
        found(&intake, letters_of_one).await.expect("found"),
        Vec::<String>::new()
    );
    let long_ago = PetitionFilter {
        registered_before: Some(prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        }),
        ..Default::default()
    };
    assert_eq!(
        found(&intake, long_ago).await.expect("found"),
        Vec::<String>::new()
    );

    let wrong = found(
        &intake,
        PetitionFilter {
            petitioner_id_card_number: "61048119800101001".into(),
            unit_code: "no such/unit".into(),
            ..Default::default()
        },
    )
    .await
    .expect_err("refused");
    assert_eq!(wrong.code(), Code::InvalidArgument);
    for field in ["filter.petitioner_id_card_number", "filter.unit_code"] {
        assert!(wrong.message().contains(field), "{}", wrong.message());
    }

    // The audit says a person was searched for, never whom.
    let notes: Vec<String> = audit::entry::Entity::find()
        .filter(audit::entry::Column::Action.eq("xinfang.intake.v1.IntakeService/ListPetitions"))
        .all(&intake.db)
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| entry.note)
        .collect();
    assert!(
        notes.contains(&"listed 2 case(s) found by petitioner".to_owned()),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .all(|note| !note.contains(&id_number(1)) && !note.contains("0002"))
    );
}

#[tokio::test]
async fn petitions_are_found_by_how_far_they_have_got() {
    use sea_orm::ActiveValue::Set;
    use xinfang_intake::store::petition_scope;
    use xinfang_proto::intake::v1::{LinkUpstreamRequest, PetitionStatus};

    let intake = IntakeUnderTest::on_sqlite().await;
    let mut client = intake.client.clone();
    let mut register = async |title: &str, petition: proto::Petition| {
        client
            .create_petition(create(titled(title, petition)))
            .await
            .expect("registered")
            .into_inner()
    };
    let upstream = |reference: &str, person: u32| proto::Petition {
        source: Some(proto::PetitionSource {
            level: proto::SourceLevel::Provincial as i32,
            upstream_reference: reference.into(),
            disposition: proto::UpstreamDisposition::Forwarded as i32,
            upstream_deadline: None,
        }),
        ..by(person, "反映问题。")
    };
    register("waiting", by(1, "反映问题。")).await;
    let held = register("held", upstream("陕信转〔2026〕1号", 2)).await;
    let routed = register("routed", by(3, "另一件事。")).await;
    let linked = register("linked", upstream("陕信转〔2026〕2号", 4)).await;
    // Routing's decisions, as intake learns them.
    for (petition, unit, path, is_held) in [
        (&held, "xfj", "/xfj/", true),
        (&linked, "xfj", "/xfj/", true),
        (&routed, "zhaocun", "/xfj/zhaocun/", false),
    ] {
        petition_scope::Entity::insert(petition_scope::ActiveModel {
            case_id: Set(petition.case_id.parse().expect("a case id")),
            unit_code: Set(unit.into()),
            unit_path: Set(path.into()),
            revision: Set(1),
            held: Set(is_held),
        })
        .exec_without_returning(&intake.db)
        .await
        .expect("scope");
    }
    intake
        .client
        .clone()
        .link_upstream(LinkUpstreamRequest {
            case_id: linked.case_id.clone(),
            into_case_id: held.case_id.clone(),
            reason: "同一事项".into(),
        })
        .await
        .expect("linked");

    for (status, titles) in [
        (PetitionStatus::AwaitingRouting, ["waiting"]),
        (PetitionStatus::Held, ["held"]),
        (PetitionStatus::Routed, ["routed"]),
        (PetitionStatus::Linked, ["linked"]),
    ] {
        let filter = PetitionFilter {
            status: status as i32,
            ..Default::default()
        };
        assert_eq!(
            found(&intake, filter).await.expect("found"),
            titles,
            "{status:?}"
        );
    }
    let wrong = found(
        &intake,
        PetitionFilter {
            status: 99,
            ..Default::default()
        },
    )
    .await
    .expect_err("no such status");
    assert!(
        wrong.message().contains("filter.status"),
        "{}",
        wrong.message()
    );
}
