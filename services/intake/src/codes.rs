//! Codes that name places and units: the bureau's region code and directory unit codes.

use std::fmt;
use std::str::FromStr;

/// A six-digit GB/T 2260 administrative region code, e.g. `610481` (兴平市).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid =
            text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "region code {text:?} is not six digits (GB/T 2260)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RegionCode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Self::parse(text)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A code from the routing directory: a unit (`xingping-dongcheng`) or a matter category
/// (`land-acquisition`). Lowercase ASCII letters, digits and inner hyphens, at most 63
/// characters, so that it is safe as a NATS subject token and in a URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DirectoryCode(String);

impl DirectoryCode {
    pub const MAX_LEN: usize = 63;

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.is_empty() {
            return Err("is required");
        }
        if text.len() > Self::MAX_LEN {
            return Err("is longer than 63 characters");
        }
        let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
        if !text.bytes().all(allowed) || text.starts_with('-') || text.ends_with('-') {
            return Err("must be lowercase letters, digits and inner hyphens ([a-z0-9-])");
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_code_is_six_digits() {
        assert!(RegionCode::parse("610481").is_ok());
        for bad in ["61048", "6104810", "61048a", "010481", ""] {
            assert!(RegionCode::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn directory_codes_are_safe_as_subject_tokens() {
        assert!(DirectoryCode::parse("xingping-dongcheng").is_ok());
        assert!(DirectoryCode::parse("land-acquisition-2").is_ok());
        for bad in [
            "",
            "Upper",
            "has.dot",
            "has space",
            "star*",
            "-lead",
            "trail-",
            "中文",
        ] {
            assert!(DirectoryCode::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(DirectoryCode::parse(&"a".repeat(64)).is_err());
    }
}
