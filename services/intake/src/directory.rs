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

/// SQLite takes at most 32766 parameters per statement; three per unit.
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

    fn change(&self, _envelope: &Envelope, event: &DirectoryPublished) -> ReplaceDirectory {
        ReplaceDirectory(event.clone())
    }
}

/// The published directory replaces the one intake knew.
pub struct ReplaceDirectory(DirectoryPublished);

impl Change for ReplaceDirectory {
    type State = ();
    type Outcome = ();
    type Error = Failure;

    async fn load(&self, _transaction: &DatabaseTransaction) -> Result<(), Failure> {
        Ok(())
    }

    fn decide(&self, (): (), _now: OffsetDateTime) -> Result<Decided<()>, Failure> {
        Ok(Decided::quietly(()))
    }

    async fn save(&self, transaction: &DatabaseTransaction, (): &()) -> Result<(), Failure> {
        known_unit::Entity::delete_many().exec(transaction).await?;
        for units in self.0.units.chunks(UNITS_PER_INSERT) {
            known_unit::Entity::insert_many(units.iter().map(|unit| known_unit::ActiveModel {
                code: Set(unit.code.clone()),
                name: Set(unit.name.clone()),
                directory_version: Set(self.0.version.clone()),
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
