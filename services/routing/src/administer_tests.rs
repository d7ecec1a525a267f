use super::*;

fn demo() -> Directory {
    Directory::parse(include_str!("../directory/xingping.toml")).expect("demo directory")
}

fn units() -> UnitsDocument {
    demo().document().units_part()
}

fn table() -> Vec<CategoryTable> {
    vec![demo().document().categories.clone()]
}

fn changed(change: UnitChange) -> UnitsDocument {
    apply(&units(), &change, 2)
        .expect("applies")
        .expect("changes something")
}

fn mistake(change: UnitChange) -> String {
    match check_with(&changed(change), &table()) {
        Err(CommandError::FailedPrecondition(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_renamed_unit_is_a_new_revision_of_the_directory() {
    let next = changed(UnitChange::Rename {
        code: "zhaocun".into(),
        name: "赵村镇人民政府".into(),
    });
    let directory = check_with(&next, &table()).expect("a valid directory");
    assert_eq!(directory.version, "xingping-2026-11+r2/2026.1");
    assert_eq!(
        directory.unit("zhaocun").map(|u| u.name.as_str()),
        Some("赵村镇人民政府")
    );
}

#[test]
fn a_retried_change_changes_nothing() {
    let same_name = UnitChange::Rename {
        code: "zhaocun".into(),
        name: "赵村镇".into(),
    };
    assert_eq!(apply(&units(), &same_name, 2).expect("applies"), None);
    let retire = UnitChange::Retire {
        code: "zhaocun-tiefo".into(),
    };
    let once = apply(&units(), &retire, 2)
        .expect("applies")
        .expect("retired");
    assert_eq!(apply(&once, &retire, 3).expect("applies"), None);
}

#[test]
fn the_label_of_a_revision_keeps_the_files_version() {
    assert_eq!(revision_label("xingping-2026-11", 2), "xingping-2026-11+r2");
    assert_eq!(
        revision_label("xingping-2026-11+r2", 3),
        "xingping-2026-11+r3"
    );
}

#[test]
fn a_unit_a_category_names_is_not_retired() {
    let why = mistake(UnitChange::Retire {
        code: "zhujian".into(),
    });
    assert!(
        why.contains("\"housing\" is handled by \"zhujian\", which is retired"),
        "{why}"
    );
}

#[test]
fn a_town_is_not_retired_while_its_villages_are_in_service() {
    let why = mistake(UnitChange::Retire {
        code: "zhaocun".into(),
    });
    assert!(
        why.contains("\"zhaocun-tiefo\" lies under \"zhaocun\""),
        "{why}"
    );
}

#[test]
fn a_unit_is_not_moved_under_itself() {
    let why = mistake(UnitChange::Move {
        code: "zhaocun".into(),
        parent: Some("zhaocun-tiefo".into()),
    });
    assert!(why.contains("is its own ancestor"), "{why}");
}

#[test]
fn a_unit_with_units_under_it_is_not_removed() {
    let why = mistake(UnitChange::Remove {
        code: "zhaocun".into(),
    });
    assert!(why.contains("names unknown parent \"zhaocun\""), "{why}");
}

#[test]
fn a_code_in_the_directory_is_not_added_again() {
    let add = UnitChange::Add(UnitEntry {
        code: "zhaocun".into(),
        name: "另一个镇".into(),
        kind: "town".into(),
        parent: None,
        retired: false,
    });
    assert!(matches!(
        apply(&units(), &add, 2),
        Err(CommandError::InvalidArgument(_))
    ));
}

#[test]
fn a_change_is_checked_with_every_scheduled_table_too() {
    // A table scheduled for next month sends housing to 马嵬街道, so mawei cannot go now.
    let mut scheduled = demo().document().categories.clone();
    scheduled.version = "2026.2".into();
    for entry in &mut scheduled.entries {
        if entry.code == "housing" {
            entry.handled_by = "mawei".into();
        }
    }
    let retired = changed(UnitChange::Retire {
        code: "mawei".into(),
    });
    assert!(check_with(&retired, &table()).is_ok());
    let mut both = table();
    both.push(scheduled);
    match check_with(&retired, &both) {
        Err(CommandError::FailedPrecondition(why)) => {
            assert!(why.starts_with("with category table 2026.2"), "{why}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
