//! An administrator maintains the directory: each change to the units is a new revision,
//! checked whole with the category table in effect and every one scheduled, so no change
//! leaves a table naming a unit that is gone. A unit that any case names is never removed,
//! only retired. Every change is announced (`DirectoryPublished`) and audited.

use std::sync::Arc;

use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
};
use time::OffsetDateTime;
use xinfang_platform::auth::Authorized;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::subjects;

use crate::directory::{CategoryTable, Directory, DirectoryDocument, UnitEntry, UnitsDocument};
use crate::error::CommandError;
use crate::publish::PublishDirectory;
use crate::route::SERVICE;
use crate::store::{category_table, decision, revision, unit_directory};
use crate::versions::{DirectoryVersions, lock_directory, newest_units, to_json};

/// One change to the units, checked at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitChange {
    Add(UnitEntry),
    Rename {
        code: String,
        name: String,
    },
    /// To another parent, or (`None`) to the top of the tree.
    Move {
        code: String,
        parent: Option<String>,
    },
    Retire {
        code: String,
    },
    Remove {
        code: String,
    },
}

impl UnitChange {
    pub fn code(&self) -> &str {
        match self {
            UnitChange::Add(entry) => &entry.code,
            UnitChange::Rename { code, .. }
            | UnitChange::Move { code, .. }
            | UnitChange::Retire { code }
            | UnitChange::Remove { code } => code,
        }
    }

    fn describe(&self) -> String {
        match self {
            UnitChange::Add(entry) => format!("added {} ({})", entry.code, entry.name),
            UnitChange::Rename { code, name } => format!("renamed {code} to {name}"),
            UnitChange::Move {
                code,
                parent: Some(parent),
            } => format!("moved {code} under {parent}"),
            UnitChange::Move { code, parent: None } => format!("moved {code} to the top"),
            UnitChange::Retire { code } => format!("retired {code}"),
            UnitChange::Remove { code } => format!("removed {code}"),
        }
    }
}

/// The units' version of revision `revision`: the file's version, marked with the revision.
pub fn revision_label(version: &str, revision: i32) -> String {
    let base = version.split_once("+r").map_or(version, |(base, _)| base);
    format!("{base}+r{revision}")
}

/// The units after `change`, as revision `revision`; `None` when it changes nothing (a
/// retried request). Pure: the whole directory is checked afterwards.
pub fn apply(
    units: &UnitsDocument,
    change: &UnitChange,
    revision: i32,
) -> Result<Option<UnitsDocument>, CommandError> {
    let mut next = units.clone();
    next.version = revision_label(&units.version, revision);
    let position = next.units.iter().position(|u| u.code == change.code());
    let Some(at) = position else {
        return match change {
            UnitChange::Add(entry) => {
                next.units.push(entry.clone());
                Ok(Some(next))
            }
            other => Err(CommandError::NotFound(format!(
                "unit {:?} is not in directory {}",
                other.code(),
                units.version
            ))),
        };
    };
    let unit = &mut next.units[at];
    match change {
        UnitChange::Add(entry) if *unit == *entry => return Ok(None),
        UnitChange::Add(entry) => {
            return Err(CommandError::invalid(
                "unit.code",
                format!(
                    "{:?} is in the directory already ({})",
                    entry.code, unit.name
                ),
            ));
        }
        UnitChange::Rename { name, .. } if unit.name == *name => return Ok(None),
        UnitChange::Rename { name, .. } => unit.name.clone_from(name),
        UnitChange::Move { parent, .. } if unit.parent == *parent => return Ok(None),
        UnitChange::Move { parent, .. } => unit.parent.clone_from(parent),
        UnitChange::Retire { .. } if unit.retired => return Ok(None),
        UnitChange::Retire { .. } => unit.retired = true,
        UnitChange::Remove { .. } => {
            next.units.remove(at);
        }
    }
    Ok(Some(next))
}

/// Checks new units with each category table they must serve (the one in effect, and every
/// one scheduled): the directory in effect after the change, or every mistake.
fn check_with(units: &UnitsDocument, tables: &[CategoryTable]) -> Result<Directory, CommandError> {
    let mut in_effect = None;
    for table in tables {
        let directory = DirectoryDocument::from_parts(units.clone(), table.clone())
            .check()
            .map_err(|error| {
                CommandError::FailedPrecondition(format!(
                    "with category table {}: {error}",
                    table.version
                ))
            })?;
        in_effect.get_or_insert(directory);
    }
    in_effect.ok_or_else(|| CommandError::FailedPrecondition("no category table".to_owned()))
}

pub struct ChangeUnits {
    pub change: UnitChange,
    pub reason: String,
    pub versions: DirectoryVersions,
    pub authorized: Authorized,
}

pub struct UnitsNow {
    newest: unit_directory::Model,
    /// The table in effect first, then each one scheduled.
    tables: Vec<CategoryTable>,
    /// For a removal: how many decisions name the unit.
    cases: u64,
}

/// The revision made, with the directory then in effect; or the one that stands.
pub struct Changed {
    pub revision: i32,
    pub directory: Arc<Directory>,
    pub row: Option<unit_directory::Model>,
    pub fingerprint: String,
}

impl Change for ChangeUnits {
    type State = UnitsNow;
    type Outcome = Changed;
    type Error = CommandError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<UnitsNow, CommandError> {
        lock_directory(transaction, true).await?;
        let newest = newest_units(transaction).await?;
        let now = self.versions.now();
        let in_effect = self.versions.in_effect_at(transaction, now).await?;
        let mut tables = vec![in_effect.document().categories.clone()];
        let scheduled = category_table::Entity::find()
            .filter(category_table::Column::EffectiveAt.gt(now))
            .all(transaction)
            .await?;
        for table in scheduled {
            tables.push(CategoryTable {
                version: table.version.clone(),
                entries: serde_json::from_str(&table.entries)
                    .map_err(|error| crate::versions::VersionsError::Damaged(error.to_string()))?,
            });
        }
        let cases = match &self.change {
            UnitChange::Remove { code } => cases_naming(transaction, code).await?,
            UnitChange::Move { code, .. } => cases_under(transaction, code).await?,
            _ => 0,
        };
        Ok(UnitsNow {
            newest,
            tables,
            cases,
        })
    }

    fn decide(
        &self,
        now_state: UnitsNow,
        now: OffsetDateTime,
    ) -> Result<Decided<Changed>, CommandError> {
        match &self.change {
            UnitChange::Remove { code } if now_state.cases > 0 => {
                return Err(CommandError::FailedPrecondition(format!(
                    "{} case decision(s) name unit {code}: it is never removed; retire it instead",
                    now_state.cases
                )));
            }
            // Who may see a case follows the path it was routed with: moving a unit with
            // cases would leave its old parent reading them.
            UnitChange::Move { code, .. } if now_state.cases > 0 => {
                return Err(CommandError::FailedPrecondition(format!(
                    "{} case(s) lie at or under unit {code}, and who may see them follows where they were routed: retire it and add the unit anew under its new parent",
                    now_state.cases
                )));
            }
            _ => {}
        }
        let units: UnitsDocument = serde_json::from_str(&now_state.newest.document)
            .map_err(|error| crate::versions::VersionsError::Damaged(error.to_string()))?;
        let revision = now_state.newest.revision + 1;
        let Some(next) = apply(&units, &self.change, revision)? else {
            let directory = check_with(&units, &now_state.tables)?;
            return Ok(Decided::quietly(Changed {
                revision: now_state.newest.revision,
                directory: Arc::new(directory),
                row: None,
                fingerprint: String::new(),
            }));
        };
        let mut directory = check_with(&next, &now_state.tables)?;
        directory.revision = revision;
        let publish = PublishDirectory::of(&directory);
        let row = unit_directory::Model {
            revision,
            document: to_json(&next)?,
            change: format!("{}: {}", self.change.describe(), self.reason),
            changed_by: self.authorized.caller.subject.clone(),
            recorded_at: now,
        };
        Ok(Decided {
            events: vec![OutgoingEvent::new(
                subjects::DIRECTORY_PUBLISHED,
                SERVICE,
                uuid::Uuid::nil(),
                now,
                &publish.event,
            )],
            outcome: Changed {
                revision,
                directory: Arc::new(directory),
                row: Some(row),
                fingerprint: publish.fingerprint,
            },
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        changed: &Changed,
    ) -> Result<(), CommandError> {
        let Some(row) = &changed.row else {
            return Ok(());
        };
        unit_directory::Entity::insert(unit_directory::ActiveModel::from(row.clone()))
            .exec_without_returning(transaction)
            .await?;
        crate::publish::record(
            transaction,
            &changed.fingerprint,
            &changed.directory.version,
            row.recorded_at,
        )
        .await?;
        self.authorized
            .audit_in(
                transaction,
                None,
                &format!("directory revision {}: {}", row.revision, row.change),
            )
            .await?;
        // The reason is the administrator's own words: audited above, not logged.
        tracing::info!(revision = row.revision, change = %self.change.describe(), "directory changed");
        Ok(())
    }
}

/// How many cases are routed to the unit or a unit under it now.
async fn cases_under(transaction: &DatabaseTransaction, code: &str) -> Result<u64, sea_orm::DbErr> {
    decision::Entity::find()
        .filter(decision::Column::UnitPath.like(format!("%/{code}/%")))
        .count(transaction)
        .await
}

/// How many decisions, current or earlier, send a case to the unit or accuse it.
async fn cases_naming(
    transaction: &DatabaseTransaction,
    code: &str,
) -> Result<u64, sea_orm::DbErr> {
    let current = decision::Entity::find()
        .filter(
            Condition::any()
                .add(decision::Column::UnitCode.eq(code))
                .add(decision::Column::AccusedUnitCode.eq(code)),
        )
        .count(transaction)
        .await?;
    let earlier = revision::Entity::find()
        .filter(revision::Column::UnitCode.eq(code))
        .count(transaction)
        .await?;
    // Co-handled, or routed to a unit under it: its code is in the case's path.
    let on_path = cases_under(transaction, code).await?;
    Ok(current + earlier + on_path)
}

#[cfg(test)]
#[path = "administer_tests.rs"]
mod tests;
