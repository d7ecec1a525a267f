//! What intake knows of routing's unit directory: the codes routing last published
//! (`DirectoryPublished`), kept whole, so a clerk registering an accusation learns at once
//! that the accused unit's code is not in it — the case then waits for a clerk to route
//! it, never goes to a unit by mistake.

use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait,
};
use time::OffsetDateTime;
use xinfang_platform::consumer::{Failure, Handler, decode_event};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::codes::DirectoryCode;
use xinfang_proto::routing::v1::DirectoryPublished;

use crate::store::known_unit;

/// SQLite takes at most 32766 parameters per statement; four per unit.
const UNITS_PER_INSERT: usize = 1000;

pub struct RecordDirectory;

impl Handler for RecordDirectory {
    type Event = DirectoryPublished;
    type Change = ReplaceDirectory;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<DirectoryPublished, String> {
        let event: DirectoryPublished = decode_event(envelope, payload)?;
        if event.units.is_empty() {
            return Err("a directory without units".to_owned());
        }
        for unit in &event.units {
            DirectoryCode::parse(&unit.code)
                .map_err(|why| format!("unit {:?} {why}", unit.code))?;
        }
        Ok(event)
    }

    fn change(&self, envelope: &Envelope, event: &DirectoryPublished) -> ReplaceDirectory {
        ReplaceDirectory {
            directory: event.clone(),
            published_at: envelope.occurred_at,
        }
    }
}

/// The published directory replaces the one intake knew, unless that one is newer.
pub struct ReplaceDirectory {
    directory: DirectoryPublished,
    published_at: OffsetDateTime,
}

impl Change for ReplaceDirectory {
    /// When the directory intake knows was announced.
    type State = Option<OffsetDateTime>;
    /// Whether this one replaces it.
    type Outcome = bool;
    type Error = Failure;

    async fn load(
        &self,
        transaction: &DatabaseTransaction,
    ) -> Result<Option<OffsetDateTime>, Failure> {
        Ok(known_unit::Entity::find()
            .one(transaction)
            .await?
            .map(|unit| unit.published_at))
    }

    fn decide(
        &self,
        known: Option<OffsetDateTime>,
        _now: OffsetDateTime,
    ) -> Result<Decided<bool>, Failure> {
        Ok(Decided::quietly(
            known.is_none_or(|known| known < self.published_at),
        ))
    }

    async fn save(&self, transaction: &DatabaseTransaction, newer: &bool) -> Result<(), Failure> {
        if !newer {
            return Ok(());
        }
        known_unit::Entity::delete_many().exec(transaction).await?;
        let published_at = xinfang_platform::wire::stored(self.published_at);
        for units in self.directory.units.chunks(UNITS_PER_INSERT) {
            known_unit::Entity::insert_many(units.iter().map(|unit| known_unit::ActiveModel {
                code: Set(unit.code.clone()),
                name: Set(unit.name.clone()),
                directory_version: Set(self.directory.version.clone()),
                published_at: Set(published_at),
            }))
            .exec_without_returning(transaction)
            .await?;
        }
        Ok(())
    }
}

/// What the registering clerk should know at once about this accused unit: nothing when
/// it is in the directory (or there is none to accuse, or intake has not learnt the
/// directory yet — routing's own check then holds the case).
pub async fn accused_unit_notice<C: ConnectionTrait>(
    db: &C,
    accused_unit: Option<&str>,
) -> Result<Option<String>, DbErr> {
    let Some(code) = accused_unit else {
        return Ok(None);
    };
    if known_unit::Entity::find_by_id(code.to_owned())
        .one(db)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    if known_unit::Entity::find().count(db).await? == 0 {
        return Ok(None);
    }
    Ok(Some(format!(
        "the accused unit {code} is not in the unit directory: the case is held for a clerk \
         to route by hand (check the code; a typo could name the wrong unit)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn announced(at: OffsetDateTime) -> ReplaceDirectory {
        ReplaceDirectory {
            directory: DirectoryPublished::default(),
            published_at: at,
        }
    }

    #[test]
    fn a_newer_directory_replaces_the_known_one_and_an_older_never_does() {
        let known = Some(datetime!(2026-11-25 08:00 UTC));
        let newer = announced(datetime!(2026-11-25 09:00 UTC));
        let older = announced(datetime!(2026-11-25 07:00 UTC));
        let again = announced(datetime!(2026-11-25 08:00 UTC));
        let now = datetime!(2026-11-25 10:00 UTC);
        assert!(newer.decide(known, now).expect("decided").outcome);
        assert!(!older.decide(known, now).expect("decided").outcome);
        assert!(!again.decide(known, now).expect("decided").outcome);
        assert!(older.decide(None, now).expect("decided").outcome);
    }
}
