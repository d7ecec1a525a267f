//! The intake form's rules, one scenario per test.

use time::macros::datetime;
use xinfang_proto::v1 as proto;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-03-02 10:00:00 +08:00);

fn timestamp(at: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.unix_timestamp(),
        nanos: 0,
    }
}

/// A complete, valid visit by one named person.
fn visit() -> proto::Petition {
    proto::Petition {
        channel: proto::Channel::Visit as i32,
        source: Some(proto::PetitionSource {
            level: proto::SourceLevel::Local as i32,
            ..Default::default()
        }),
        received_at: Some(timestamp(datetime!(2026-03-02 09:30:00 +08:00))),
        anonymous: false,
        petitioner: Some(proto::PetitionerIdentity {
            kind: proto::PetitionerKind::Person as i32,
            name: "张三".into(),
            id_card_number: "610481199001011233".into(),
            phone: "13812345678".into(),
            address: "兴平市东城街道幸福路1号".into(),
        }),
        people_count: 1,
        territory_code: "dongcheng".into(),
        matter_category: "land-acquisition".into(),
        title: "征地补偿款未发放".into(),
        content: "2025年征地后补偿款至今未发放。\n请求依法发放。".into(),
        ..Default::default()
    }
}

fn fields(result: Result<NewPetition, Vec<FieldViolation>>) -> Vec<String> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.field)
        .collect()
}

#[test]
fn a_complete_visit_is_accepted_as_written() {
    let petition = NewPetition::parse(Some(&visit()), NOW).expect("valid petition");
    assert_eq!(petition.channel, Channel::Visit);
    assert_eq!(petition.source_level, SourceLevel::Local);
    assert_eq!(petition.upstream, None);
    assert_eq!(petition.territory.as_str(), "dongcheng");
    let petitioner = petition.petitioner.expect("named petitioner");
    assert_eq!(petitioner.name, "张三");
    assert_eq!(
        petitioner.id_card.map(|id| id.as_str().to_owned()),
        Some("610481199001011233".into())
    );
}

#[test]
fn a_missing_petition_is_one_violation() {
    assert_eq!(fields(NewPetition::parse(None, NOW)), ["petition"]);
}

#[test]
fn an_empty_petition_reports_every_required_field_at_once() {
    let empty = proto::Petition::default();
    assert_eq!(
        fields(NewPetition::parse(Some(&empty), NOW)),
        [
            "petition.channel",
            "petition.source",
            "petition.received_at",
            "petition.petitioner",
            "petition.people_count",
            "petition.territory_code",
            "petition.matter_category",
            "petition.title",
            "petition.content",
        ]
    );
}

#[test]
fn an_anonymous_petition_needs_no_identity_but_may_not_carry_one() {
    let mut anonymous = visit();
    anonymous.anonymous = true;
    assert_eq!(
        fields(NewPetition::parse(Some(&anonymous), NOW)),
        ["petition.petitioner"]
    );
    anonymous.petitioner = None;
    let petition = NewPetition::parse(Some(&anonymous), NOW).expect("valid anonymous petition");
    assert!(petition.is_anonymous());
}

#[test]
fn a_named_petitioner_needs_an_address_or_a_phone_to_be_answered() {
    let mut petition = visit();
    if let Some(petitioner) = petition.petitioner.as_mut() {
        petitioner.phone.clear();
        petitioner.address.clear();
    }
    assert_eq!(
        fields(NewPetition::parse(Some(&petition), NOW)),
        ["petition.petitioner"]
    );
}

#[test]
fn malformed_identity_fields_are_named_precisely() {
    let mut petition = visit();
    if let Some(petitioner) = petition.petitioner.as_mut() {
        petitioner.id_card_number = "610481199001011234".into();
        petitioner.phone = "12345".into();
    }
    assert_eq!(
        fields(NewPetition::parse(Some(&petition), NOW)),
        [
            "petition.petitioner.id_card_number",
            "petition.petitioner.phone"
        ]
    );
}

#[test]
fn a_petition_sent_down_needs_the_higher_bureaus_reference_and_disposition() {
    let mut petition = visit();
    petition.channel = proto::Channel::Online as i32;
    petition.source = Some(proto::PetitionSource {
        level: proto::SourceLevel::National as i32,
        ..Default::default()
    });
    assert_eq!(
        fields(NewPetition::parse(Some(&petition), NOW)),
        [
            "petition.source.upstream_reference",
            "petition.source.disposition"
        ]
    );
    petition.source = Some(proto::PetitionSource {
        level: proto::SourceLevel::National as i32,
        upstream_reference: "GJ-2026-0001".into(),
        disposition: proto::UpstreamDisposition::Assigned as i32,
        upstream_deadline: Some(proto::CalendarDate {
            year: 2026,
            month: 3,
            day: 20,
        }),
    });
    let parsed = NewPetition::parse(Some(&petition), NOW).expect("valid forwarded petition");
    assert_eq!(
        parsed.upstream,
        Some(Upstream {
            reference: "GJ-2026-0001".into(),
            disposition: UpstreamDisposition::Assigned,
            deadline: Some(time::macros::date!(2026 - 03 - 20)),
        })
    );
}

#[test]
fn a_local_petition_has_no_upstream_reference() {
    let mut petition = visit();
    petition.source = Some(proto::PetitionSource {
        level: proto::SourceLevel::Local as i32,
        upstream_reference: "GJ-2026-0001".into(),
        ..Default::default()
    });
    assert_eq!(
        fields(NewPetition::parse(Some(&petition), NOW)),
        ["petition.source"]
    );
}

#[test]
fn absurd_values_are_refused() {
    type Spoil = Box<dyn Fn(&mut proto::Petition)>;
    let cases: Vec<(&str, Spoil)> = vec![
        ("petition.channel", Box::new(|p| p.channel = 99)),
        (
            "petition.received_at",
            Box::new(|p| p.received_at = Some(timestamp(NOW + Duration::hours(1)))),
        ),
        (
            "petition.received_at",
            Box::new(|p| p.received_at = Some(timestamp(datetime!(1999-12-31 00:00 UTC)))),
        ),
        (
            "petition.received_at",
            Box::new(|p| {
                p.received_at = Some(prost_types::Timestamp {
                    seconds: i64::MAX,
                    nanos: 0,
                })
            }),
        ),
        (
            "petition.people_count",
            Box::new(|p| p.people_count = 100_001),
        ),
        (
            "petition.territory_code",
            Box::new(|p| p.territory_code = "Dong Cheng".into()),
        ),
        (
            "petition.matter_category",
            Box::new(|p| p.matter_category = "a.b".into()),
        ),
        ("petition.title", Box::new(|p| p.title = "x".repeat(201))),
        (
            "petition.title",
            Box::new(|p| p.title = "two\nlines".into()),
        ),
        (
            "petition.content",
            Box::new(|p| p.content = "bell\u{7}".into()),
        ),
        ("petition.content", Box::new(|p| p.content = "   ".into())),
        (
            "petition.accused_unit_code",
            Box::new(|p| p.accused_unit_code = "x y".into()),
        ),
        (
            "petition.accused_unit_code",
            Box::new(|p| {
                p.accused_person = Some(proto::AccusedPerson {
                    name: "钱有权".into(),
                    ..Default::default()
                });
            }),
        ),
        (
            "petition.accused_person.name",
            Box::new(|p| {
                p.accused_unit_code = "zhaocun".into();
                p.accused_person = Some(proto::AccusedPerson {
                    position: "村委会主任".into(),
                    ..Default::default()
                });
            }),
        ),
        (
            "petition.accused_person.position",
            Box::new(|p| {
                p.accused_unit_code = "zhaocun".into();
                p.accused_person = Some(proto::AccusedPerson {
                    name: "钱有权".into(),
                    position: "x".repeat(101),
                    ..Default::default()
                });
            }),
        ),
    ];
    for (field, spoil) in cases {
        let mut petition = visit();
        spoil(&mut petition);
        assert_eq!(
            fields(NewPetition::parse(Some(&petition), NOW)),
            [field],
            "spoiling {field}"
        );
    }
}

#[test]
fn text_is_stored_trimmed() {
    let mut petition = visit();
    petition.title = "  征地补偿  ".into();
    let parsed = NewPetition::parse(Some(&petition), NOW).expect("valid petition");
    assert_eq!(parsed.title, "征地补偿");
}

#[test]
fn an_accused_person_is_parsed_beside_the_accused_unit_and_never_printed() {
    let mut petition = visit();
    petition.accused_unit_code = "zhaocun".into();
    petition.accused_person = Some(proto::AccusedPerson {
        name: " 钱有权 ".into(),
        position: "村委会主任".into(),
        unit_name: String::new(),
    });
    let parsed = NewPetition::parse(Some(&petition), NOW).expect("valid petition");
    let person = parsed.accused_person.expect("an accused person");
    assert_eq!(person.name, "钱有权");
    assert_eq!(person.position.as_deref(), Some("村委会主任"));
    assert_eq!(person.unit_name, None);
    assert!(!format!("{person:?}").contains("钱有权"));
}

#[test]
fn invisible_direction_overrides_and_zero_width_characters_are_refused() {
    for (field, sneaky) in [
        ("petition.title", "征地补偿\u{202E}款未发放"),
        ("petition.content", "内容\u{200B}正文"),
        ("petition.title", "标签\u{E0041}字符"),
        ("petition.title", "填充\u{3164}字符"),
    ] {
        let mut petition = visit();
        match field {
            "petition.title" => petition.title = sneaky.into(),
            _ => petition.content = sneaky.into(),
        }
        assert_eq!(fields(NewPetition::parse(Some(&petition), NOW)), [field]);
    }
    let mut named = visit();
    if let Some(petitioner) = named.petitioner.as_mut() {
        petitioner.name = "张\u{2067}三".into();
    }
    assert_eq!(
        fields(NewPetition::parse(Some(&named), NOW)),
        ["petition.petitioner.name"]
    );
}

#[test]
fn full_width_digits_in_an_id_or_phone_number_are_the_same_number() {
    let mut petition = visit();
    if let Some(petitioner) = petition.petitioner.as_mut() {
        petitioner.id_card_number = "６１０４８１１９９００１０１１２３３".into();
        petitioner.phone = "１３８－１２３４－５６７８".into();
    }
    let parsed = NewPetition::parse(Some(&petition), NOW).expect("accepted");
    let identity = parsed.petitioner.expect("named");
    assert_eq!(
        identity.id_card.as_ref().map(|id| id.as_str()),
        Some("610481199001011233")
    );
    assert_eq!(
        identity.phone.as_ref().map(|phone| phone.as_str()),
        Some("13812345678")
    );
}
