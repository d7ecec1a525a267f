use time::macros::datetime;

use super::*;

const RULES: MatchingRules = MatchingRules {
    repeat_window: Duration::from_secs(365 * 86_400),
    repeat_similarity: 0.5,
    collective_window: Duration::from_secs(30 * 86_400),
    collective_similarity: 0.8,
};
const NOW: OffsetDateTime = datetime!(2026-11-26 10:00 +8);

const WAGES: &str =
    "拖欠工资：某建筑公司拖欠我们二十名农民工工资共计三十万元，至今未付，请求督促支付。";

fn earlier(number: u32, text: &str, same_petitioner: bool, days_ago: i64) -> Earlier {
    Earlier {
        case_id: Uuid::from_u128(u128::from(number)),
        case_number: format!("610481-2026-{number:06}"),
        registered_at: NOW - time::Duration::days(days_ago),
        source_level: SourceLevel::Local,
        text: text.into(),
        same_petitioner,
        repeat_of: None,
        collective_matter: None,
    }
}

fn classify(
    text: &str,
    level: SourceLevel,
    now: OffsetDateTime,
    earlier: &[Earlier],
    rules: &MatchingRules,
    repeats_final: bool,
) -> Classification {
    super::classify(
        NewText {
            text,
            level,
            identified: true,
            repeats_final,
        },
        now,
        earlier,
        rules,
    )
}

fn case(number: u32) -> Option<(Uuid, String)> {
    Some((
        Uuid::from_u128(u128::from(number)),
        format!("610481-2026-{number:06}"),
    ))
}

#[test]
fn similarity_works_on_chinese_characters_not_on_spaces() {
    assert_eq!(similarity(WAGES, WAGES), 1.0);
    // The same matter retold, with other punctuation and full-width digits.
    let retold = "某建筑公司至今拖欠我们农民工工资共计３０万元未付，请求督促支付";
    assert!(
        similarity(WAGES, retold) > 0.5,
        "{}",
        similarity(WAGES, retold)
    );
    let other = "村委会违规发包集体土地，请求调查处理。";
    assert!(
        similarity(WAGES, other) < 0.1,
        "{}",
        similarity(WAGES, other)
    );
    assert_eq!(similarity("", WAGES), 0.0);
}

#[test]
fn the_same_petitioner_with_the_same_matter_within_the_window_is_a_repeat_of_the_first_case() {
    let mut first_repeat = earlier(2, WAGES, true, 40);
    first_repeat.repeat_of = case(1);
    let found = classify(
        WAGES,
        SourceLevel::Local,
        NOW,
        &[first_repeat],
        &RULES,
        false,
    );
    assert_eq!(found.repeat_of, case(1));
    assert!(!found.first_time);
    assert!(!found.skip_level);
}

#[test]
fn a_different_matter_or_an_old_one_or_another_petitioner_is_no_repeat() {
    let other_matter = earlier(1, "村委会违规发包集体土地，请求调查处理。", true, 10);
    let found = classify(
        WAGES,
        SourceLevel::Local,
        NOW,
        &[other_matter],
        &RULES,
        false,
    );
    assert_eq!(found.repeat_of, None);
    assert!(found.first_time);
    // Older than the window: not a repeat, but not first-time either.
    let long_ago = earlier(2, WAGES, true, 400);
    let found = classify(WAGES, SourceLevel::Local, NOW, &[long_ago], &RULES, false);
    assert_eq!(found.repeat_of, None);
    assert!(!found.first_time);
    let found = classify(
        WAGES,
        SourceLevel::Local,
        NOW,
        &[earlier(3, WAGES, false, 10)],
        &RULES,
        false,
    );
    assert_eq!(found.repeat_of, None);
    assert!(found.first_time);
}

#[test]
fn a_matter_here_brought_again_from_a_higher_level_is_skip_level() {
    let found = classify(
        WAGES,
        SourceLevel::Provincial,
        NOW,
        &[earlier(1, WAGES, true, 20)],
        &RULES,
        false,
    );
    assert_eq!(found.repeat_of, case(1));
    assert!(found.skip_level);
    // Against the lowest level the matter was brought at, not the most alike petition.
    let mut from_province = earlier(2, WAGES, true, 5);
    from_province.source_level = SourceLevel::Provincial;
    let local = earlier(
        1,
        "拖欠工资：某建筑公司拖欠我们农民工工资共计三十万元，请求督促支付。",
        true,
        30,
    );
    let found = classify(
        WAGES,
        SourceLevel::Provincial,
        NOW,
        &[from_province, local],
        &RULES,
        false,
    );
    assert_eq!(found.repeat_of, case(2));
    assert!(found.skip_level);
}

#[test]
fn an_unidentified_petition_is_neither_a_repeat_nor_first_time_nor_collective() {
    let found = super::classify(
        NewText {
            text: WAGES,
            level: SourceLevel::Local,
            identified: false,
            repeats_final: false,
        },
        NOW,
        &[earlier(1, WAGES, false, 3)],
        &RULES,
    );
    assert_eq!(found, Classification::default());
}

#[test]
fn a_petition_repeating_a_final_matter_is_not_first_time() {
    let found = classify(WAGES, SourceLevel::Local, NOW, &[], &RULES, true);
    assert!(!found.first_time);
}

#[test]
fn near_identical_texts_of_other_petitioners_join_the_first_ones_collective_matter() {
    let mut joined = earlier(2, WAGES, false, 3);
    joined.collective_matter = case(1);
    let candidates = [joined, earlier(5, "村委会违规发包集体土地", false, 1)];
    let found = classify(WAGES, SourceLevel::Local, NOW, &candidates, &RULES, false);
    assert_eq!(found.collective_matter, case(1));
    // Older than the collective window: a matter of its own.
    let found = classify(
        WAGES,
        SourceLevel::Local,
        NOW,
        &[earlier(1, WAGES, false, 45)],
        &RULES,
        false,
    );
    assert_eq!(found.collective_matter, None);
}

#[test]
fn of_several_alike_the_most_alike_wins_and_of_equals_the_earliest() {
    let candidates = [earlier(7, WAGES, true, 5), earlier(3, WAGES, true, 50)];
    let found = classify(WAGES, SourceLevel::Local, NOW, &candidates, &RULES, false);
    assert_eq!(found.repeat_of, case(3));
}
