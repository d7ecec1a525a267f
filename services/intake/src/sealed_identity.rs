//! The petitioner's and the accused person's identities, sealed at rest with the service's
//! key ring (`xinfang_platform::sealing`), each bound to its table and case: a sealed
//! identity copied to another case's row does not open there. The ID number and phone are
//! found again through keyed hashes of their normalised forms.

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use xinfang_platform::sealing::{KeyRing, SealError};

use crate::store::{accused_person, petitioner};

/// Lookup purposes: a hash of one kind never matches a hash of another.
pub const ID_CARD: &str = "id_card";
pub const PHONE: &str = "phone";

/// Shown instead of a value that does not open (a lost key, an altered row).
pub const HIDDEN: &str = "****";

/// The petitioner as given, normalised (the ID number upper-case and half-width, the phone
/// as digits).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PetitionerRecord {
    pub name: String,
    pub id_card_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// A visiting group's representatives (Art 20), sealed with the petitioner who leads it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub representatives: Vec<PetitionerRecord>,
}

impl std::fmt::Debug for PetitionerRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PetitionerRecord(..)")
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccusedRecord {
    pub name: String,
    pub position: Option<String>,
    pub unit_name: Option<String>,
}

impl std::fmt::Debug for AccusedRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccusedRecord(..)")
    }
}

fn associated(table: &str, case_id: Uuid) -> Vec<u8> {
    format!("{table}/{case_id}").into_bytes()
}

fn version(keys: &KeyRing) -> i32 {
    i32::try_from(keys.current_version()).unwrap_or(i32::MAX)
}

/// The row to store: the identity sealed, its look-ups, no plaintext.
pub fn seal_petitioner(
    keys: &KeyRing,
    case_id: Uuid,
    kind: &str,
    record: &PetitionerRecord,
) -> petitioner::Model {
    let plaintext = serde_json::to_vec(record).unwrap_or_default();
    petitioner::Model {
        case_id,
        kind: kind.to_owned(),
        plaintext_name: String::new(),
        plaintext_id_card_number: None,
        plaintext_phone: None,
        plaintext_address: None,
        sealed: Some(keys.seal(&associated("petitioner", case_id), &plaintext)),
        key_version: Some(version(keys)),
        id_card_lookup: record
            .id_card_number
            .as_deref()
            .map(|id| keys.lookup(ID_CARD, id)),
        phone_lookup: record
            .phone
            .as_deref()
            .map(|phone| keys.lookup(PHONE, phone)),
    }
}

/// The identity a stored row holds: opened, or read from a row not sealed yet.
pub fn open_petitioner(
    keys: &KeyRing,
    row: &petitioner::Model,
) -> Result<PetitionerRecord, SealError> {
    let Some(sealed) = &row.sealed else {
        return Ok(PetitionerRecord {
            name: row.plaintext_name.clone(),
            id_card_number: row.plaintext_id_card_number.clone(),
            phone: row.plaintext_phone.clone(),
            address: row.plaintext_address.clone(),
            representatives: Vec::new(),
        });
    };
    let opened = keys.open(&associated("petitioner", row.case_id), sealed)?;
    serde_json::from_slice(&opened).map_err(|_| SealError::DoesNotOpen)
}

/// For showing: a row that does not open shows hidden values (and says so in the log),
/// rather than failing a whole list.
pub fn petitioner_or_hidden(keys: &KeyRing, row: &petitioner::Model) -> PetitionerRecord {
    open_petitioner(keys, row).unwrap_or_else(|error| {
        tracing::error!(case = %row.case_id, error = %error, "a petitioner's identity does not open");
        PetitionerRecord {
            name: HIDDEN.into(),
            id_card_number: None,
            phone: None,
            address: None,
            representatives: Vec::new(),
        }
    })
}

/// The keyed hash of the row's ID number: stored, or computed for a row not sealed yet.
pub fn id_card_lookup(keys: &KeyRing, row: &petitioner::Model) -> Option<Vec<u8>> {
    if row.sealed.is_some() {
        return row.id_card_lookup.clone();
    }
    row.plaintext_id_card_number
        .as_deref()
        .map(|id| keys.lookup(ID_CARD, id))
}

pub fn seal_accused(
    keys: &KeyRing,
    case_id: Uuid,
    record: &AccusedRecord,
) -> accused_person::Model {
    let plaintext = serde_json::to_vec(record).unwrap_or_default();
    accused_person::Model {
        case_id,
        plaintext_name: String::new(),
        plaintext_position: None,
        plaintext_unit_name: None,
        sealed: Some(keys.seal(&associated("accused_person", case_id), &plaintext)),
        key_version: Some(version(keys)),
    }
}

pub fn open_accused(
    keys: &KeyRing,
    row: &accused_person::Model,
) -> Result<AccusedRecord, SealError> {
    let Some(sealed) = &row.sealed else {
        return Ok(AccusedRecord {
            name: row.plaintext_name.clone(),
            position: row.plaintext_position.clone(),
            unit_name: row.plaintext_unit_name.clone(),
        });
    };
    let opened = keys.open(&associated("accused_person", row.case_id), sealed)?;
    serde_json::from_slice(&opened).map_err(|_| SealError::DoesNotOpen)
}

pub fn accused_or_hidden(keys: &KeyRing, row: &accused_person::Model) -> AccusedRecord {
    open_accused(keys, row).unwrap_or_else(|error| {
        tracing::error!(case = %row.case_id, error = %error, "an accused person does not open");
        AccusedRecord {
            name: HIDDEN.into(),
            position: None,
            unit_name: None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> KeyRing {
        let folder = tempfile::tempdir().expect("folder");
        KeyRing::load(&folder.path().join("keys.toml"), true).expect("keys")
    }

    fn record() -> PetitionerRecord {
        PetitionerRecord {
            name: "张三".into(),
            id_card_number: Some("610481199001011233".into()),
            phone: Some("13812345678".into()),
            address: Some("兴平市东城街道幸福路1号".into()),
            representatives: Vec::new(),
        }
    }

    #[test]
    fn a_sealed_petitioner_keeps_no_plaintext_and_opens_to_what_was_given() {
        let keys = keys();
        let case = Uuid::now_v7();
        let row = seal_petitioner(&keys, case, "person", &record());
        assert_eq!(row.plaintext_name, "");
        assert_eq!(row.plaintext_id_card_number, None);
        let sealed = row.sealed.clone().expect("sealed");
        assert!(!sealed.windows("张三".len()).any(|w| w == "张三".as_bytes()));
        assert_eq!(open_petitioner(&keys, &row), Ok(record()));
        assert_eq!(
            row.id_card_lookup,
            Some(keys.lookup(ID_CARD, "610481199001011233"))
        );
    }

    #[test]
    fn a_sealed_identity_moved_to_another_case_does_not_open() {
        let keys = keys();
        let mut row = seal_petitioner(&keys, Uuid::now_v7(), "person", &record());
        row.case_id = Uuid::now_v7();
        assert_eq!(open_petitioner(&keys, &row), Err(SealError::DoesNotOpen));
        assert_eq!(petitioner_or_hidden(&keys, &row).name, HIDDEN);
        // Nor does a petitioner's sealed value open as an accused person of the same case.
        let case = Uuid::now_v7();
        let petitioner = seal_petitioner(&keys, case, "person", &record());
        let mut accused = seal_accused(
            &keys,
            case,
            &AccusedRecord {
                name: "李四".into(),
                position: None,
                unit_name: None,
            },
        );
        accused.sealed = petitioner.sealed;
        assert_eq!(open_accused(&keys, &accused), Err(SealError::DoesNotOpen));
    }
}
