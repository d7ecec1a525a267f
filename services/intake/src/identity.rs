//! The petitioner's identity fields, parsed, and how they are masked wherever they are shown.

use std::fmt;

/// An 18-character resident identity card number (GB 11643-1999), checksum verified.
#[derive(Clone, PartialEq, Eq)]
pub struct IdCardNumber(String);

impl IdCardNumber {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK_CHARACTERS: &'static [u8; 11] = b"10X98765432";

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = half_width(text.trim()).to_ascii_uppercase();
        let bytes = text.as_bytes();
        if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
            return Err("must be 17 digits and a check character");
        }
        if !valid_birth_date(&text[6..14]) {
            return Err("has no valid birth date");
        }
        let sum: u32 = bytes[..17]
            .iter()
            .zip(Self::WEIGHTS)
            .map(|(digit, weight)| u32::from(digit - b'0') * weight)
            .sum();
        if bytes[17] != Self::CHECK_CHARACTERS[(sum % 11) as usize] {
            return Err("has a wrong check character");
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The region and the last four, as clerks are used to see: `610481********1233`.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

/// Never print the number itself, not even in a debug log.
impl fmt::Debug for IdCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdCardNumber({})", self.masked())
    }
}

fn valid_birth_date(yyyymmdd: &str) -> bool {
    let number = |range: std::ops::Range<usize>| yyyymmdd[range].parse::<u16>().ok();
    match (number(0..4), number(4..6), number(6..8)) {
        (Some(year), Some(month), Some(day)) => {
            let Ok(month) = time::Month::try_from(month as u8) else {
                return false;
            };
            (1900..=2100).contains(&year)
                && day >= 1
                && day <= u16::from(time::util::days_in_month(month, i32::from(year)))
        }
        _ => false,
    }
}

/// Full-width digits, letters and signs (as a Chinese input method types them: `１３８`,
/// `Ｘ`, `－`, `＋`, the ideographic space) as their ASCII forms, so that the same number
/// typed either way is the same number.
pub fn half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// A mainland mobile number (11 digits from 1) or a landline with its area code.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = half_width(text.trim());
        let text = text.as_str();
        let national = text.strip_prefix("+86").unwrap_or(text).trim_start();
        let digits: String = national
            .chars()
            .filter(|c| *c != '-' && *c != ' ')
            .collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must contain only digits, spaces and hyphens");
        }
        let mobile = digits.len() == 11 && digits.starts_with('1') && digits.as_bytes()[1] >= b'3';
        let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
        if mobile || landline {
            Ok(Self(digits))
        } else {
            Err("is neither a mobile number nor a landline with area code")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first three and last four digits: `138****5678`.
    pub fn masked(&self) -> String {
        let digits = &self.0;
        format!("{}****{}", &digits[..3], &digits[digits.len() - 4..])
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

/// A name with all but its first character hidden: `张**`.
pub fn mask_name(name: &str) -> String {
    let mut characters = name.chars();
    match characters.next() {
        Some(first) => std::iter::once(first)
            .chain(characters.map(|_| '*'))
            .collect(),
        None => String::new(),
    }
}

/// An address cut to its first six characters (enough for the district), the rest hidden.
pub fn mask_address(address: &str) -> String {
    if address.is_empty() {
        return String::new();
    }
    let shown: String = address.chars().take(6).collect();
    format!("{shown}****")
}

#[cfg(test)]
mod tests {
    use super::*;

    // A made-up number with a correct check character (weighted sum 240, 240 % 11 = 9 → '3').
    const VALID_ID: &str = "610481199001011233";

    #[test]
    fn an_id_card_number_with_the_right_check_character_is_accepted() {
        let id = IdCardNumber::parse(VALID_ID).expect("valid number");
        assert_eq!(id.as_str(), VALID_ID);
    }

    #[test]
    fn an_id_card_number_with_a_lowercase_x_is_read_as_uppercase() {
        // 11010519491231002X is the standard's own example.
        assert_eq!(
            IdCardNumber::parse("11010519491231002x").map(|id| id.0),
            Ok("11010519491231002X".into())
        );
    }

    #[test]
    fn malformed_id_card_numbers_are_refused_with_the_reason() {
        assert_eq!(
            IdCardNumber::parse("610481199001011234"),
            Err("has a wrong check character")
        );
        assert_eq!(
            IdCardNumber::parse("61048119900101123"),
            Err("must be 17 digits and a check character")
        );
        assert_eq!(
            IdCardNumber::parse("610481199002301234"),
            Err("has no valid birth date")
        );
    }

    #[test]
    fn masked_identity_shows_only_what_a_clerk_needs_to_recognise_it() {
        let id = IdCardNumber::parse(VALID_ID).expect("valid number");
        assert_eq!(id.masked(), "610481********1233");
        assert_eq!(format!("{id:?}"), "IdCardNumber(610481********1233)");
        assert_eq!(
            PhoneNumber::parse("13812345678").map(|p| p.masked()),
            Ok("138****5678".into())
        );
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(
            mask_address("陕西省兴平市东城街道幸福路1号"),
            "陕西省兴平市****"
        );
    }

    #[test]
    fn phone_numbers_are_mobile_or_landline() {
        assert_eq!(
            PhoneNumber::parse("+86 138-1234-5678").map(|p| p.0),
            Ok("13812345678".into())
        );
        assert_eq!(
            PhoneNumber::parse("029-38812345").map(|p| p.0),
            Ok("02938812345".into())
        );
        for bad in ["12345", "23812345678", "1381234567a", "110"] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
