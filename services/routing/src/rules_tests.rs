use super::*;

fn demo() -> Directory {
    Directory::parse(include_str!("../directory/xingping.toml")).expect("demo directory")
}

fn case<'a>(territory: &'a str, category: &'a str) -> CaseToRoute<'a> {
    CaseToRoute {
        territory,
        matter_category: category,
        accused_unit: None,
        upstream: None,
        repeats_final_case: None,
        repeat_of_case: None,
        registered_at_unit: None,
        proposed_link: None,
        linked_into: None,
    }
}

#[test]
fn a_matter_final_after_re_review_goes_to_no_unit() {
    let repeat = CaseToRoute {
        repeats_final_case: Some("610481-2026-000007"),
        ..case("zhaocun", "land-acquisition")
    };
    let decision = route(&repeat, &demo());
    assert_eq!(decision.disposition, Disposition::Triage);
    assert_eq!(decision.rule, "final-matter");
    assert!(
        decision.reason.contains("610481-2026-000007"),
        "{}",
        decision.reason
    );
}

#[test]
fn a_repeat_petition_is_held_for_a_clerk_not_handed_to_a_unit_again() {
    let repeat = CaseToRoute {
        repeat_of_case: Some("610481-2026-000003"),
        ..case("zhaocun", "land-acquisition")
    };
    let decision = route(&repeat, &demo());
    assert_eq!(
        (
            decision.disposition,
            decision.rule.as_str(),
            decision.unit_code.as_str()
        ),
        (Disposition::Triage, "repeat", "xfj")
    );
    assert!(
        decision.reason.contains("610481-2026-000003"),
        "{}",
        decision.reason
    );
}

#[test]
fn a_petition_proposed_for_linking_is_held_for_a_clerk_before_it_counts_as_a_repeat() {
    // The national bureau's copy of a matter the provincial bureau sent down first: one
    // case with both references, not a second unit's work.
    let proposed = CaseToRoute {
        upstream: Some(UpstreamDisposition::Assigned),
        repeat_of_case: Some("610481-2026-000003"),
        proposed_link: Some("610481-2026-000003"),
        ..case("mawei", "housing")
    };
    let decision = route(&proposed, &demo());
    assert_eq!(
        (
            decision.disposition,
            decision.rule.as_str(),
            decision.unit_code.as_str()
        ),
        (Disposition::Triage, "upstream-link", "xfj")
    );
    assert!(
        decision.reason.contains("610481-2026-000003"),
        "{}",
        decision.reason
    );
}

#[test]
fn a_petition_already_linked_goes_to_no_unit() {
    // Its link can overtake its registration: routing then holds it, never sends it out.
    let linked = CaseToRoute {
        upstream: Some(UpstreamDisposition::Forwarded),
        linked_into: Some("610481-2026-000003"),
        ..case("mawei", "housing")
    };
    let decision = route(&linked, &demo());
    assert_eq!(
        (decision.disposition, decision.rule.as_str()),
        (Disposition::Triage, "linked")
    );
}

#[test]
fn a_petition_registered_at_a_units_own_desk_stays_with_that_unit() {
    // A housing matter arising in 赵村镇 would go to 住建局; 赵村镇 took it in at its own
    // desk (首接首办).
    let at_desk = CaseToRoute {
        registered_at_unit: Some("zhaocun"),
        ..case("zhaocun-tiefo", "housing")
    };
    let decision = route(&at_desk, &demo());
    assert_eq!(
        (
            decision.unit_code.as_str(),
            decision.disposition,
            decision.rule.as_str()
        ),
        ("zhaocun", Disposition::Forward, "first-contact")
    );
    assert!(decision.reason.contains("zhujian"), "{}", decision.reason);
}

#[test]
fn a_desk_keeps_only_its_own_territorys_appeals_and_suggestions() {
    let at_zhaocun = |territory, category| CaseToRoute {
        registered_at_unit: Some("zhaocun"),
        ..case(territory, category)
    };
    let decided = |case: &CaseToRoute<'_>| {
        let decision = route(case, &demo());
        (decision.unit_code, decision.disposition)
    };
    // Arising in 马嵬街道: 属地管理 and the category decide, not the desk.
    assert_eq!(
        decided(&at_zhaocun("mawei", "housing")),
        ("zhujian".into(), Disposition::Forward)
    );
    // 赵村镇 accused: never to 赵村镇.
    let accused = CaseToRoute {
        accused_unit: Some("zhaocun"),
        ..at_zhaocun("zhaocun", "housing")
    };
    assert_eq!(decided(&accused), ("zhujian".into(), Disposition::Forward));
    // An accusation goes to the organ for it (Art 30), whoever took it in.
    assert_eq!(
        decided(&at_zhaocun("zhaocun", "cadre-misconduct")).0,
        "jiwei"
    );
    // A statutory-channel matter is diverted.
    assert_eq!(
        decided(&at_zhaocun("zhaocun", "litigation")).1,
        Disposition::Divert
    );
    // Assigned down by a higher bureau: assigned on with its deadline.
    let assigned = CaseToRoute {
        upstream: Some(UpstreamDisposition::Assigned),
        ..at_zhaocun("zhaocun", "housing")
    };
    assert_eq!(decided(&assigned), ("zhujian".into(), Disposition::Assign));
    // A village is not a desk that keeps cases.
    let village = CaseToRoute {
        registered_at_unit: Some("zhaocun-tiefo"),
        ..case("zhaocun-tiefo", "housing")
    };
    assert_eq!(decided(&village).0, "zhujian");
}

#[test]
fn a_territorial_matter_goes_to_the_town_where_it_arose() {
    let decision = route(&case("zhaocun", "land-acquisition"), &demo());
    assert_eq!(
        decision,
        Decision {
            unit_code: "zhaocun".into(),
            disposition: Disposition::Forward,
            track: Some(LegalTrack::Appeal),
            rule: "category:land-acquisition/territory".into(),
            reason: "征地拆迁 is handled where it arose: zhaocun".into(),
            guidance_notice: String::new(),
        }
    );
}

#[test]
fn a_village_matter_goes_to_its_town() {
    let decision = route(&case("zhaocun-tiefo", "rural-affairs"), &demo());
    assert_eq!(decision.unit_code, "zhaocun");
    let decision = route(&case("dongcheng-beijie", "neighbourhood"), &demo());
    assert_eq!(decision.unit_code, "dongcheng");
}

#[test]
fn a_departmental_matter_goes_to_the_competent_department_wherever_it_arose() {
    let decision = route(&case("nanshi-wangcun", "wage-arrears"), &demo());
    assert_eq!(decision.unit_code, "renshe");
    assert_eq!(decision.rule, "category:wage-arrears/unit");
}

#[test]
fn a_case_a_higher_bureau_assigned_is_assigned_on() {
    let mut assigned = case("zhaocun", "housing");
    assigned.upstream = Some(UpstreamDisposition::Assigned);
    assert_eq!(route(&assigned, &demo()).disposition, Disposition::Assign);
    assigned.upstream = Some(UpstreamDisposition::Forwarded);
    assert_eq!(route(&assigned, &demo()).disposition, Disposition::Forward);
}

#[test]
fn an_accusation_goes_to_the_discipline_commission_not_to_the_accused_town() {
    let mut accusation = case("zhaocun", "cadre-misconduct");
    accusation.accused_unit = Some("zhaocun");
    let decision = route(&accusation, &demo());
    assert_eq!(decision.unit_code, "jiwei");
    assert_eq!(decision.track, Some(LegalTrack::Accusation));
}

#[test]
fn a_case_whose_handler_is_the_accused_is_held_for_a_clerk() {
    let mut accusation = case("zhaocun", "cadre-misconduct");
    accusation.accused_unit = Some("jiwei");
    let decision = route(&accusation, &demo());
    assert_eq!(decision.unit_code, "xfj");
    assert_eq!(decision.disposition, Disposition::Triage);
    assert_eq!(decision.rule, "category:cadre-misconduct/accused-withheld");
}

#[test]
fn a_territorial_case_never_reaches_a_village_of_the_accused_town() {
    // The village's town is accused: routing by territory would hand it to the accused.
    let mut complaint = case("zhaocun-tiefo", "land-acquisition");
    complaint.accused_unit = Some("zhaocun");
    let decision = route(&complaint, &demo());
    assert_eq!(decision.disposition, Disposition::Triage);
    assert_eq!(decision.unit_code, "xfj");
}

#[test]
fn an_accused_unit_the_directory_does_not_know_holds_the_case_for_a_clerk() {
    // A typo of `zhaocun`: routed as if no one were accused, the case would reach 赵村镇.
    let mut complaint = case("zhaocun-tiefo", "rural-affairs");
    complaint.accused_unit = Some("zhaocum");
    let decision = route(&complaint, &demo());
    assert_eq!(decision.disposition, Disposition::Triage);
    assert_eq!(decision.unit_code, "xfj");
    assert_eq!(decision.rule, "unknown-accused-unit");
    assert_eq!(
        decision.reason,
        "the accused unit \"zhaocum\" is not in directory xingping-2026-11/2026.1; a clerk checks who is accused and routes it"
    );
}

#[test]
fn the_town_may_handle_a_case_against_one_of_its_villages() {
    let mut complaint = case("zhaocun-tiefo", "rural-affairs");
    complaint.accused_unit = Some("zhaocun-tiefo");
    assert_eq!(route(&complaint, &demo()).unit_code, "zhaocun");
}

#[test]
fn an_unknown_category_is_held_for_a_clerk_with_the_reason() {
    let decision = route(&case("zhaocun", "ufo-sightings"), &demo());
    assert_eq!(
        decision,
        Decision {
            unit_code: "xfj".into(),
            disposition: Disposition::Triage,
            track: None,
            rule: "unknown-category".into(),
            reason: "matter category \"ufo-sightings\" is not in category table xingping-2026-11/2026.1; a clerk routes it".into(),
            guidance_notice: String::new(),
        }
    );
}

#[test]
fn an_unknown_or_non_territorial_place_is_held_for_a_clerk() {
    for territory in ["atlantis", "renshe", "xfj"] {
        let decision = route(&case(territory, "land-acquisition"), &demo());
        assert_eq!(decision.disposition, Disposition::Triage, "{territory}");
    }
}

#[test]
fn litigation_is_diverted_to_the_court() {
    let decision = route(&case("mawei", "litigation"), &demo());
    assert_eq!(decision.unit_code, "fayuan");
    assert_eq!(decision.track, Some(LegalTrack::StatutoryChannel));
}

#[test]
fn a_statutory_channel_matter_is_diverted_with_a_guidance_notice_not_forwarded() {
    for (category, unit) in [
        ("labour-dispute", "laodong-zhongcai"),
        ("litigation", "fayuan"),
        ("public-security", "gongan"),
    ] {
        let decision = route(&case("zhaocun", category), &demo());
        assert_eq!(decision.disposition, Disposition::Divert, "{category}");
        assert_eq!(decision.unit_code, unit);
        assert_eq!(decision.rule, format!("category:{category}/divert"));
        assert!(
            decision.guidance_notice.contains("依据"),
            "{}",
            decision.guidance_notice
        );
        assert!(decision.guidance_notice.contains("第三十一条"));
    }
    // Diverted even when a higher bureau assigned it down.
    let mut assigned = case("zhaocun", "litigation");
    assigned.upstream = Some(UpstreamDisposition::Assigned);
    assert_eq!(route(&assigned, &demo()).disposition, Disposition::Divert);
}

#[test]
fn a_matter_arising_in_a_retired_town_is_held_for_a_clerk() {
    let mut document = demo().document().clone();
    for unit in &mut document.units {
        if unit.code == "zhaocun" || unit.parent.as_deref() == Some("zhaocun") {
            unit.retired = true;
        }
    }
    let directory = document.check().expect("a valid directory");
    let decision = route(&case("zhaocun-tiefo", "rural-affairs"), &directory);
    assert_eq!(decision.disposition, Disposition::Triage);
    assert_eq!(decision.rule, "category:rural-affairs/territory");
}

/// The decision table as data: a case in, the track, disposition, unit and rule out.
#[test]
fn the_decision_table() {
    use LegalTrack::{Accusation, Appeal, StatutoryChannel};
    type Row<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<UpstreamDisposition>,
        Option<LegalTrack>,
        Disposition,
        &'a str,
        &'a str,
    );
    let table: [Row<'_>; 9] = [
        (
            "zhaocun",
            "land-acquisition",
            None,
            None,
            Some(Appeal),
            Disposition::Forward,
            "zhaocun",
            "category:land-acquisition/territory",
        ),
        (
            "zhaocun-tiefo",
            "rural-affairs",
            None,
            None,
            Some(Appeal),
            Disposition::Forward,
            "zhaocun",
            "category:rural-affairs/territory",
        ),
        (
            "mawei",
            "housing",
            None,
            None,
            Some(Appeal),
            Disposition::Forward,
            "zhujian",
            "category:housing/unit",
        ),
        (
            "nanshi",
            "wage-arrears",
            None,
            Some(UpstreamDisposition::Assigned),
            Some(Appeal),
            Disposition::Assign,
            "renshe",
            "category:wage-arrears/unit",
        ),
        (
            "zhaocun",
            "land-acquisition",
            Some("zhaocun"),
            None,
            Some(Appeal),
            Disposition::Triage,
            "xfj",
            "category:land-acquisition/accused-withheld",
        ),
        (
            "zhaocun",
            "land-acquisition",
            Some("zhaocum"),
            None,
            Some(Appeal),
            Disposition::Triage,
            "xfj",
            "unknown-accused-unit",
        ),
        (
            "xicheng",
            "no-such-category",
            None,
            None,
            None,
            Disposition::Triage,
            "xfj",
            "unknown-category",
        ),
        (
            "xicheng",
            "litigation",
            None,
            None,
            Some(StatutoryChannel),
            Disposition::Divert,
            "fayuan",
            "category:litigation/divert",
        ),
        (
            "dongcheng",
            "cadre-misconduct",
            Some("dongcheng"),
            None,
            Some(Accusation),
            Disposition::Forward,
            "jiwei",
            "category:cadre-misconduct/unit",
        ),
    ];
    for (territory, category, accused, upstream, track, disposition, unit, rule) in table {
        let decided = route(
            &CaseToRoute {
                accused_unit: accused,
                upstream,
                ..case(territory, category)
            },
            &demo(),
        );
        assert_eq!(
            (
                decided.track,
                decided.disposition,
                decided.unit_code.as_str(),
                decided.rule.as_str()
            ),
            (track, disposition, unit, rule),
            "{territory} / {category} / accused {accused:?} / {upstream:?}"
        );
    }
}
