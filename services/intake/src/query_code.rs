//! The petitioner's query code (查询码): given once at registration, kept only as a keyed
//! hash bound to the case, and with the case number enough to follow the case. Twelve
//! characters from an alphabet without look-alikes (no 0/O, 1/I): 60 random bits.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;
use xinfang_platform::sealing::KeyRing;

use crate::identity::half_width;
use crate::store::petition;

const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const LENGTH: usize = 12;
const PURPOSE: &str = "query_code";

/// A new code, as the petitioner is given it (`K7QF-3M9P-XR2D`), and the hash to store.
pub fn issue(keys: &KeyRing, case_id: Uuid) -> (String, Vec<u8>) {
    let random: [u8; LENGTH] = keys.random_bytes();
    let code: String = random
        .iter()
        .map(|byte| char::from(ALPHABET[usize::from(byte & 31)]))
        .collect();
    let hash = keys.lookup(PURPOSE, &bound(case_id, &code));
    let shown = format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..]);
    (shown, hash)
}

/// The code as typed (any case, with or without hyphens and spaces, full-width or not), or
/// `None` when it cannot be one.
pub fn normalise(typed: &str) -> Option<String> {
    let code: String = half_width(typed)
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

fn bound(case_id: Uuid, code: &str) -> String {
    format!("{case_id}:{code}")
}

/// Whether `typed` is the case's current code (compared in constant time).
pub fn matches(keys: &KeyRing, row: &petition::Model, typed: &str) -> bool {
    match (normalise(typed), &row.query_code_hash) {
        (Some(code), Some(hash)) => keys.matches_lookup(PURPOSE, &bound(row.case_id, &code), hash),
        _ => false,
    }
}

/// Gives the case a new code, the old one no longer working: for a registration whose
/// answer was lost (the clerk's retry) or a petitioner who lost the code.
pub async fn reissue<C: ConnectionTrait>(
    db: &C,
    keys: &KeyRing,
    case_id: Uuid,
) -> Result<String, DbErr> {
    let (code, hash) = issue(keys, case_id);
    petition::Entity::update_many()
        .col_expr(
            petition::Column::QueryCodeHash,
            sea_orm::sea_query::Expr::value(hash),
        )
        .filter(petition::Column::CaseId.eq(case_id))
        .exec(db)
        .await?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_twelve_unambiguous_characters_and_is_read_back_however_typed() {
        let folder = tempfile::tempdir().expect("folder");
        let keys = KeyRing::load(&folder.path().join("k.toml"), true).expect("keys");
        let (code, _) = issue(&keys, Uuid::now_v7());
        assert_eq!(code.len(), 14);
        assert!(!code.contains(['0', 'O', '1', 'I']), "{code}");
        let typed = format!(" {} ", code.to_lowercase().replace('-', ""));
        assert_eq!(normalise(&typed), Some(code.replace('-', "")));
        assert_eq!(
            normalise("ＡＢＣＤ-ＥＦＧＨ-ＪＫＬＭ"),
            Some("ABCDEFGHJKLM".into())
        );
        assert_eq!(normalise("ABCD-EFGH-JKL0"), None);
        assert_eq!(normalise("ABCD"), None);
    }

    #[test]
    fn a_code_matches_only_its_own_case() {
        let folder = tempfile::tempdir().expect("folder");
        let keys = KeyRing::load(&folder.path().join("k.toml"), true).expect("keys");
        let case = Uuid::now_v7();
        let (code, hash) = issue(&keys, case);
        let normalised = normalise(&code).expect("a code");
        assert!(keys.matches_lookup(PURPOSE, &bound(case, &normalised), &hash));
        assert!(!keys.matches_lookup(PURPOSE, &bound(Uuid::now_v7(), &normalised), &hash));
    }
}
