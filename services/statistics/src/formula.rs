//! The formulas' versions. A change to how a figure is counted is a new version; the old one
//! stays here, so last year's figures can still be computed the way they were published.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formula {
    pub version: &'static str,
    /// Days after the reply was served in which an evaluation counts (参评); the regulation
    /// sets none.
    pub evaluation_window_days: i64,
    /// Whether 基本满意 counts as satisfied.
    pub basically_satisfied_counts: bool,
    /// Days after a first-time case was done in which a repeat means it was not resolved.
    pub resolution_window_days: i64,
}

pub const FORMULAS: [Formula; 2] = [
    Formula {
        version: "v1",
        evaluation_window_days: 30,
        basically_satisfied_counts: true,
        resolution_window_days: 180,
    },
    // Some bureaus count only 满意 as satisfied.
    Formula {
        version: "v2",
        evaluation_window_days: 30,
        basically_satisfied_counts: false,
        resolution_window_days: 180,
    },
];

pub const DEFAULT_VERSION: &str = "v1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("formula version {0:?} is not one of v1, v2")]
pub struct UnknownVersion(pub String);

pub fn formula(version: &str) -> Result<Formula, UnknownVersion> {
    FORMULAS
        .into_iter()
        .find(|formula| formula.version == version)
        .ok_or_else(|| UnknownVersion(version.to_owned()))
}

impl Formula {
    pub fn satisfaction_words(&self) -> &'static str {
        if self.basically_satisfied_counts {
            "(满意 + 基本满意) / 参评"
        } else {
            "满意 / 参评"
        }
    }
}
