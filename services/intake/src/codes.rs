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

/// Unit and matter-category codes are shared with routing, which defines them.
pub use xinfang_proto::codes::DirectoryCode;

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
}
