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

fn bigrams(text: &str) -> HashSet<(char, char)> {
    let characters = normalised(text);
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

/// What the new petition is, given the earlier ones (any order).
pub fn classify(
    text: &str,
    level: SourceLevel,
    now: OffsetDateTime,
    earlier: &[Earlier],
    rules: &MatchingRules,
    repeats_final: bool,
) -> Classification {
    let new = bigrams(text);
    let alike = |other: &Earlier| dice(&new, &bigrams(&other.text));
    let within = |other: &Earlier, window: Duration| now - other.registered_at <= window;
    let repeated = best(
        earlier
            .iter()
            .filter(|e| e.same_petitioner && within(e, rules.repeat_window))
            .map(|e| (alike(e), e))
            .filter(|(score, _)| *score >= rules.repeat_similarity)
            .collect(),
    )
    .map(|(_, e)| e);
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
        skip_level: repeated.is_some_and(|e| rank(level) > rank(e.source_level)),
        first_time: repeated.is_none() && !repeats_final,
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
