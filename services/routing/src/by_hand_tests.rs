use time::macros::{date, datetime};

use super::*;

fn demo() -> Directory {
    Directory::parse(include_str!("../directory/xingping.toml")).expect("the demo directory")
}

/// A case the rules held, as stored: a land matter in 赵村镇.
fn held(rule: &str, accused: Option<&str>) -> decision::Model {
    decision::Model {
        case_id: Uuid::nil(),
        case_number: "610481-2026-000001".into(),
        unit_code: "xfj".into(),
        unit_path: "/xfj/".into(),
        disposition: Disposition::Triage.code().into(),
        track: "appeal".into(),
        rule: rule.into(),
        reason: "held".into(),
        directory_version: "v".into(),
        territory_code: "zhaocun".into(),
        matter_category: "land-acquisition".into(),
        received_at: datetime!(2026-03-02 09:00 +8),
        routed_at: datetime!(2026-03-02 09:00 +8),
        revision: 1,
        decided_by: RULES.into(),
        guidance_notice: String::new(),
        assignment_deadline: None,
        accused_unit_code: accused.map(str::to_owned),
        channel: "online".into(),
        source_level: "local".into(),
        anonymous: false,
        upstream_deadline: Some(date!(2026 - 03 - 20)),
        previous_unit_code: None,
        after_objection: false,
        co_handling_units: String::new(),
        territory_revision: 0,
        category_revision: 0,
        review_reason: None,
    }
}

/// A case the rules forwarded to 赵村镇, standing at `stage` there.
fn forwarded(decided_by: &str) -> decision::Model {
    decision::Model {
        unit_code: "zhaocun".into(),
        unit_path: "/zhaocun/".into(),
        disposition: Disposition::Forward.code().into(),
        rule: "category:land-acquisition/territory".into(),
        decided_by: decided_by.into(),
        ..held("", None)
    }
}

fn at(stage: CaseStage) -> ByHand {
    ByHand {
        stage: Some((stage, 1)),
        ..to("dongcheng", Disposition::Forward)
    }
}

fn to(unit: &str, disposition: Disposition) -> ByHand {
    ByHand {
        case_id: Uuid::nil(),
        unit_code: unit.into(),
        disposition,
        reason: "经核查".into(),
        assignment_deadline: None,
        guidance_notice: String::new(),
        accused_unit_code: None,
        matter_category: None,
        stage: None,
        co_handling_units: Vec::new(),
    }
}

fn decide(
    current: &decision::Model,
    by_hand: &ByHand,
) -> Result<Option<decision::Model>, CommandError> {
    decide_by_hand(
        current,
        by_hand,
        &demo(),
        "clerk-wang",
        30,
        datetime!(2026-03-03 09:00 +8),
    )
}

#[test]
fn a_mistyped_accused_code_must_be_corrected_before_the_case_moves_and_then_guards_it() {
    let mistyped = held("unknown-accused-unit", Some("zhaocum"));
    assert!(matches!(
        decide(&mistyped, &to("jiwei", Disposition::Forward)),
        Err(CommandError::InvalidArgument(_))
    ));
    let corrected = |unit: &str| ByHand {
        accused_unit_code: Some("zhaocun".into()),
        ..to(unit, Disposition::Forward)
    };
    for accused_or_under_it in ["zhaocun", "zhaocun-tiefo"] {
        assert!(
            matches!(
                decide(&mistyped, &corrected(accused_or_under_it)),
                Err(CommandError::FailedPrecondition(_))
            ),
            "{accused_or_under_it}"
        );
    }
    let routed = decide(&mistyped, &corrected("jiwei"))
        .expect("routed")
        .expect("a new revision");
    assert_eq!(routed.accused_unit_code.as_deref(), Some("zhaocun"));
    assert_eq!(routed.revision, 2);
    assert_eq!(routed.decided_by, "clerk-wang");
}

#[test]
fn a_case_held_before_the_accused_was_recorded_is_not_routed_blind() {
    // Decisions stored before the accused unit was kept with them.
    let older = held("category:land-acquisition/accused-withheld", None);
    assert!(matches!(
        decide(&older, &to("jiwei", Disposition::Forward)),
        Err(CommandError::InvalidArgument(_))
    ));
}

#[test]
fn a_repeat_of_a_final_matter_goes_to_no_unit() {
    assert!(matches!(
        decide(
            &held("final-matter", None),
            &to("zhaocun", Disposition::Forward)
        ),
        Err(CommandError::FailedPrecondition(_))
    ));
}

#[test]
fn a_diversion_goes_only_to_a_statutory_channel() {
    let mut case = held("unknown-category", None);
    case.matter_category = "litigation".into();
    case.track = "statutory-channel".into();
    assert!(matches!(
        decide(&case, &to("zhaocun", Disposition::Divert)),
        Err(CommandError::InvalidArgument(_))
    ));
    let diverted = decide(&case, &to("fayuan", Disposition::Divert))
        .expect("diverted")
        .expect("a new revision");
    assert!(
        diverted.guidance_notice.contains("兴平市人民法院"),
        "{}",
        diverted.guidance_notice
    );
}

#[test]
fn an_assignment_is_due_no_later_than_the_higher_bureaus_deadline() {
    let case = held("unknown-category", None);
    // The bureau's 30 days would end on 2 April; the higher bureau set 20 March.
    let assigned = decide(&case, &to("zhaocun", Disposition::Assign))
        .expect("assigned")
        .expect("a new revision");
    assert_eq!(assigned.assignment_deadline, Some(date!(2026 - 03 - 20)));
    let too_late = ByHand {
        assignment_deadline: Some(date!(2026 - 03 - 25)),
        ..to("zhaocun", Disposition::Assign)
    };
    assert!(matches!(
        decide(&case, &too_late),
        Err(CommandError::InvalidArgument(_))
    ));
}

#[test]
fn a_case_of_an_unknown_category_is_classified_before_it_moves() {
    let mut unknown = held("unknown-category", None);
    unknown.matter_category = "ufo-sightings".into();
    unknown.track = "unclassified".into();
    assert!(matches!(
        decide(&unknown, &to("zhujian", Disposition::Forward)),
        Err(CommandError::InvalidArgument(_))
    ));
    let classified = ByHand {
        matter_category: Some("housing".into()),
        ..to("zhujian", Disposition::Forward)
    };
    let routed = decide(&unknown, &classified)
        .expect("routed")
        .expect("a new revision");
    assert_eq!(routed.matter_category, "housing");
    assert_eq!(routed.track, "appeal");
    // Not a statutory matter: forwarded, never diverted.
    let diverted = ByHand {
        matter_category: Some("housing".into()),
        ..to("fayuan", Disposition::Divert)
    };
    assert!(matches!(
        decide(&unknown, &diverted),
        Err(CommandError::InvalidArgument(_))
    ));
}

#[test]
fn the_rules_decision_is_corrected_before_the_unit_signs_for_the_case() {
    let moved = decide(&forwarded(RULES), &at(CaseStage::AwaitingSignFor))
        .expect("allowed")
        .expect("moved");
    assert_eq!(moved.unit_code, "dongcheng");
    assert_eq!(moved.revision, 2);
    assert_eq!(moved.previous_unit_code.as_deref(), Some("zhaocun"));
    assert!(
        !moved.after_objection,
        "not a wrong routing: no unit objected"
    );
}

#[test]
fn a_case_its_unit_signed_for_moves_only_on_an_upheld_objection() {
    for stage in [
        CaseStage::SignedFor,
        CaseStage::ObjectionPending,
        CaseStage::Accepted,
        CaseStage::Completed,
    ] {
        match decide(&forwarded(RULES), &at(stage)) {
            Err(CommandError::FailedPrecondition(why)) => {
                assert!(why.contains("objects within 5 working days"), "{why}");
            }
            other => panic!("{stage:?}: expected a refusal, got {other:?}"),
        }
    }
    let moved = decide(&forwarded(RULES), &at(CaseStage::Returned))
        .expect("allowed")
        .expect("moved");
    assert!(moved.after_objection);
    assert_eq!(moved.previous_unit_code.as_deref(), Some("zhaocun"));
}

#[test]
fn a_clerks_routing_moves_again_only_on_an_upheld_objection() {
    assert!(matches!(
        decide(&forwarded("clerk-li"), &at(CaseStage::AwaitingSignFor)),
        Err(CommandError::FailedPrecondition(_))
    ));
    assert!(
        decide(&forwarded("clerk-li"), &at(CaseStage::Returned))
            .expect("allowed")
            .is_some_and(|moved| moved.after_objection)
    );
}

#[test]
fn a_returned_stage_counts_only_for_the_routing_supervision_has_caught_up_with() {
    // Supervision still has the case returned from 赵村镇, but routing already sent it on:
    // moving it again now must not count a wrong routing against the unit it is at.
    let moved_on = decision::Model {
        unit_code: "dongcheng".into(),
        revision: 2,
        ..forwarded("clerk-li")
    };
    // Supervision still follows revision 1.
    let onwards = ByHand {
        unit_code: "xicheng".into(),
        ..at(CaseStage::Returned)
    };
    assert!(matches!(
        decide(&moved_on, &onwards),
        Err(CommandError::Unavailable(_))
    ));
}

#[test]
fn co_handling_units_read_the_case_beside_the_lead_but_never_the_accused() {
    let with_co = |co: &[&str]| ByHand {
        co_handling_units: co.iter().map(|unit| (*unit).to_owned()).collect(),
        ..to("zhaocun", Disposition::Assign)
    };
    let routed = decide(
        &held("unknown-category", None),
        &with_co(&["renshe", "zhaocun-tiefo"]),
    )
    .expect("allowed")
    .expect("routed");
    assert_eq!(routed.co_handling(), ["renshe", "zhaocun-tiefo"]);
    assert_eq!(routed.unit_path, "/zhaocun/renshe/zhaocun-tiefo/");

    let accused = held("accused-withheld", Some("renshe"));
    assert!(matches!(
        decide(&accused, &with_co(&["renshe"])),
        Err(CommandError::FailedPrecondition(_))
    ));
    for wrong in [&["zhaocun"][..], &["xfj"], &["no-such-unit"]] {
        assert!(
            matches!(
                decide(&held("unknown-category", None), &with_co(wrong)),
                Err(CommandError::InvalidArgument(_))
            ),
            "{wrong:?}"
        );
    }
}

#[test]
fn a_case_classified_anew_at_its_unit_stays_there_whatever_its_stage() {
    // 赵村镇 signed for a land matter; its registration was corrected to a rural-affairs
    // matter, which 赵村镇 handles too: the clerk classifies it anew where it is.
    let anew = ByHand {
        unit_code: "zhaocun".into(),
        matter_category: Some("rural-affairs".into()),
        ..at(CaseStage::SignedFor)
    };
    let next = decide(&forwarded(RULES), &anew)
        .expect("allowed")
        .expect("a new revision");
    assert_eq!(
        (
            next.unit_code.as_str(),
            next.matter_category.as_str(),
            next.revision,
            next.after_objection,
            next.previous_unit_code.clone()
        ),
        ("zhaocun", "rural-affairs", 2, false, None)
    );
    // The same classification again changes nothing.
    let same = ByHand {
        matter_category: None,
        ..anew.clone()
    };
    assert_eq!(decide(&forwarded(RULES), &same).expect("allowed"), None);
    // A unit whose objection was upheld does not get the case back, classified anew or not.
    let back = ByHand {
        stage: Some((CaseStage::Returned, 1)),
        ..anew
    };
    assert!(matches!(
        decide(&forwarded(RULES), &back),
        Err(CommandError::FailedPrecondition(_))
    ));
}
