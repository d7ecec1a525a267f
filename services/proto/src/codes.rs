//! Codes that name units and matter categories in the routing directory. They travel in
//! subjects, so they are checked once, here, where the subjects are spelled.

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

impl std::fmt::Display for DirectoryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
