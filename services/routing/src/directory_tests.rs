use super::*;

const DEMO: &str = include_str!("../directory/xingping.toml");

fn with(units: &str, categories: &str) -> String {
    format!(
        r#"
version = "test-1"
bureau = "xfj"
[[units]]
code = "xfj"
name = "信访局"
kind = "bureau"
{units}
[categories]
version = "c1"
{categories}
"#
    )
}

fn mistakes(text: &str) -> Vec<String> {
    match Directory::parse(text) {
        Err(DirectoryError::Invalid(mistakes)) => mistakes,
        other => panic!("expected mistakes, got {other:?}"),
    }
}

#[test]
fn the_demo_directory_of_xingping_loads() {
    let directory = Directory::parse(DEMO).expect("the demo directory is valid");
    assert_eq!(directory.version, "xingping-2026-11/2026.1");
    assert_eq!(directory.bureau.as_str(), "xfj");
    assert_eq!(
        directory.unit("zhaocun").map(|u| u.kind),
        Some(UnitKind::Town)
    );
    assert_eq!(
        directory.category("cadre-misconduct").map(|c| c.track),
        Some(LegalTrack::Accusation)
    );
    assert!(directory.is_within("zhaocun-tiefo", "zhaocun"));
    assert!(!directory.is_within("zhaocun", "zhaocun-tiefo"));
}

#[test]
fn every_mistake_is_reported_at_once() {
    let text = with(
        r#"
[[units]]
code = "Bad Code"
name = "x"
kind = "town"
[[units]]
code = "village"
name = "v"
kind = "village"
parent = "nowhere"
[[units]]
code = "odd"
name = "o"
kind = "castle"
"#,
        r#"
[[categories.entries]]
code = "roads"
name = "道路"
track = "appeal"
handled_by = "missing-unit"
[[categories.entries]]
code = "misc"
name = "其他"
track = "gossip"
handled_by = "territory"
"#,
    );
    let found = mistakes(&text);
    let expected = [
        r#"unit code "Bad Code" must be lowercase letters, digits and inner hyphens ([a-z0-9-])"#,
        r#"unit "odd" has unknown kind "castle""#,
        r#"unit "village" names unknown parent "nowhere""#,
        r#"category "roads" is handled by unknown unit "missing-unit""#,
        r#"category "misc" has unknown track "gossip""#,
    ];
    for mistake in expected {
        assert!(
            found.iter().any(|m| m == mistake),
            "missing {mistake:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
}

#[test]
fn a_unit_listed_twice_is_refused() {
    let unit = "[[units]]\ncode = \"a\"\nname = \"A\"\nkind = \"town\"\n";
    let found = mistakes(&with(&format!("{unit}{unit}"), ""));
    assert_eq!(found, vec![r#"unit "a" is listed twice"#.to_owned()]);
}

#[test]
fn a_parent_cycle_is_refused() {
    let units = r#"
[[units]]
code = "a"
name = "A"
kind = "town"
parent = "b"
[[units]]
code = "b"
name = "B"
kind = "town"
parent = "a"
"#;
    let found = mistakes(&with(units, ""));
    assert_eq!(
        found,
        vec![
            r#"unit "a" is its own ancestor"#.to_owned(),
            r#"unit "b" is its own ancestor"#.to_owned()
        ]
    );
}

#[test]
fn a_category_cannot_be_handled_by_a_bureau() {
    let categories = r#"
[[categories.entries]]
code = "roads"
name = "道路"
track = "appeal"
handled_by = "xfj"
"#;
    assert_eq!(
        mistakes(&with("", categories)),
        vec![r#"category "roads" is handled by "xfj", which does not handle cases"#.to_owned()]
    );
}

#[test]
fn unknown_keys_are_refused_rather_than_ignored() {
    let text = with("", "").replace("bureau = \"xfj\"", "bureau = \"xfj\"\nbureu = \"typo\"");
    assert!(matches!(
        Directory::parse(&text),
        Err(DirectoryError::Syntax(_))
    ));
}
