//! How a new petition relates to earlier ones: a repeat of the same petitioner's matter
//! (重复信访), the same matter taken to a higher level while in progress here (越级, Art 19),
//! a first-time petition (初信初访), or one of many petitioners' near-identical texts that
//! make one collective matter. Pure: the candidates in, the classification out.
//!
//! Text is compared by its character bigrams (Dice coefficient) after normalisation:
//! Chinese has no spaces to split words on, and bigrams of characters catch the same matter
//! retold in other words well enough for a clerk to confirm.

use std::collections::HashSet;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::identity::half_width;
use crate::petition::SourceLevel;

/// The settings (see `Config`): how alike, and how close in time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchingRules {
    pub repeat_window: Duration,
    pub repeat_similarity: f64,
    pub collective_window: Duration,
    pub collective_similarity: f64,
}

/// An earlier petition a new one might relate to.
#[derive(Debug, Clone, PartialEq)]
pub struct Earlier {
    pub case_id: Uuid,
    pub case_number: String,
    pub registered_at: OffsetDateTime,
    pub source_level: SourceLevel,
    pub text: String,
    /// By the same petitioner (the same ID number or phone, by keyed hash).
    pub same_petitioner: bool,
    /// The case it repeats, if it is a repeat itself: a repeat links to the first.
    pub repeat_of: Option<(Uuid, String)>,
    /// The first case of the collective matter it belongs to, if any.
    pub collective_matter: Option<(Uuid, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classification {
    /// The first case of the matter this petition repeats (重复信访).
    pub repeat_of: Option<(Uuid, String)>,
    /// A repeat of a matter here, now coming from a higher level (越级, Art 19).
    pub skip_level: bool,
    /// No earlier petition of this petitioner on this matter (初信初访).
    pub first_time: bool,
    /// The first case of the collective matter this petition joins.
    pub collective_matter: Option<(Uuid, String)>,
}

/// The petition's text as compared: half-width, lower-case, letters and digits only.
fn normalised(text: &str) -> Vec<char> {
    half_width(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Enough of a petition to recognise its matter; a long one is not compared whole, so that
/// registration stays quick.
const COMPARED_CHARACTERS: usize = 2_000;

fn bigrams(text: &str) -> HashSet<(char, char)> {
    let mut characters = normalised(text);
    characters.truncate(COMPARED_CHARACTERS);
    match characters.as_slice() {
        [] => HashSet::new(),
        [only] => HashSet::from([(*only, *only)]),
        _ => characters
            .windows(2)
            .map(|pair| (pair[0], pair[1]))
            .collect(),
    }
}

/// How alike two texts are, from 0 (nothing shared) to 1 (the same bigrams).
pub fn similarity(a: &str, b: &str) -> f64 {
    dice(&bigrams(a), &bigrams(b))
}

fn dice(a: &HashSet<(char, char)>, b: &HashSet<(char, char)>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    (2 * a.intersection(b).count()) as f64 / (a.len() + b.len()) as f64
}

fn rank(level: SourceLevel) -> u8 {
    match level {
        SourceLevel::Local => 0,
        SourceLevel::Prefecture => 1,
        SourceLevel::Provincial => 2,
        SourceLevel::National => 3,
    }
}

/// The most alike wins; of equals, the earliest.
fn best(candidates: Vec<(f64, &Earlier)>) -> Option<(f64, &Earlier)> {
    candidates.into_iter().max_by(|(a, x), (b, y)| {
        a.total_cmp(b)
            .then_with(|| y.registered_at.cmp(&x.registered_at))
    })
}

/// The new petition, as `classify` compares it.
#[derive(Debug, Clone, Copy)]
pub struct NewText<'a> {
    pub text: &'a str,
    pub level: SourceLevel,
    /// Whether the petitioner can be recognised (an ID number or phone): an anonymous or
    /// unidentified petition is never a repeat, never first-time (nobody can know), and
    /// joins no collective matter (it may be one person's letter sent twice).
    pub identified: bool,
    /// The matter is final after re-review (Art 36): a repeat of it is not first-time.
    pub repeats_final: bool,
}

/// What the new petition is, given the earlier ones (any order). The same petitioner's
/// earlier petitions are given whenever they were registered: a repeat needs one within the
/// repeat window, first-time needs none ever.
pub fn classify(
    new: NewText<'_>,
    now: OffsetDateTime,
    earlier: &[Earlier],
    rules: &MatchingRules,
) -> Classification {
    if !new.identified {
        return Classification::default();
    }
    let theirs = bigrams(new.text);
    let alike = |other: &Earlier| dice(&theirs, &bigrams(&other.text));
    let within = |other: &Earlier, window: Duration| now - other.registered_at <= window;
    let same_matter: Vec<(f64, &Earlier)> = earlier
        .iter()
        .filter(|e| e.same_petitioner)
        .map(|e| (alike(e), e))
        .filter(|(score, _)| *score >= rules.repeat_similarity)
        .collect();
    let recent: Vec<(f64, &Earlier)> = same_matter
        .iter()
        .copied()
        .filter(|(_, e)| within(e, rules.repeat_window))
        .collect();
    // Skip-level against the lowest level the matter was ever brought at.
    let lowest = recent.iter().map(|(_, e)| rank(e.source_level)).min();
    let repeated = best(recent).map(|(_, e)| e);
    let collective = best(
        earlier
            .iter()
            .filter(|e| !e.same_petitioner && within(e, rules.collective_window))
            .map(|e| (alike(e), e))
            .filter(|(score, _)| *score >= rules.collective_similarity)
            .collect(),
    )
    .map(|(_, e)| e);
    Classification {
        repeat_of: repeated.map(|e| {
            e.repeat_of
                .clone()
                .unwrap_or((e.case_id, e.case_number.clone()))
        }),
        skip_level: lowest.is_some_and(|lowest| rank(new.level) > lowest),
        first_time: same_matter.is_empty() && !new.repeats_final,
        collective_matter: collective.map(|e| {
            e.collective_matter
                .clone()
                .unwrap_or((e.case_id, e.case_number.clone()))
        }),
    }
}

#[cfg(test)]
#[path = "matching_tests.rs"]
mod tests;
