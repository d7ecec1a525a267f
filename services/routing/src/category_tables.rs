//! An administrator publishes a version of the category table (the bureau's 导向图) with
//! the time it takes effect. Checked whole against the units: a table naming a unit that
//! is not there, or one retired, is refused with every mistake listed. A version once
//! published never changes: decisions name it.

use sea_orm::{DatabaseTransaction, EntityTrait};
use time::{Duration, OffsetDateTime};
use xinfang_platform::auth::Authorized;
use xinfang_platform::write::{Change, Decided};

use crate::directory::{CategoryEntry, CategoryTable, DirectoryDocument, UnitsDocument};
use crate::error::CommandError;
use crate::store::{category_table, unit_directory};
use crate::versions::{VersionsError, lock_directory, newest_units, to_json};

/// How far in the past an effective time may lie: a clock's drift, not a back-dating.
const CLOCK_SKEW: Duration = Duration::minutes(1);

pub struct PublishTable {
    pub version: String,
    /// Now when unset.
    pub effective_at: Option<OffsetDateTime>,
    pub entries: Vec<CategoryEntry>,
    pub authorized: Authorized,
}

pub struct TableNow {
    published: Option<category_table::Model>,
    units: unit_directory::Model,
}

impl Change for PublishTable {
    type State = TableNow;
    /// The version as stored, and whether this call published it.
    type Outcome = (category_table::Model, bool);
    type Error = CommandError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<TableNow, CommandError> {
        lock_directory(transaction, true).await?;
        Ok(TableNow {
            published: category_table::Entity::find_by_id(self.version.clone())
                .one(transaction)
                .await?,
            units: newest_units(transaction).await?,
        })
    }

    fn decide(
        &self,
        state: TableNow,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, CommandError> {
        let entries = to_json(&self.entries)?;
        if let Some(published) = state.published {
            let same = published.entries == entries
                && self
                    .effective_at
                    .is_none_or(|at| at == published.effective_at);
            return if same {
                Ok(Decided::quietly((published, false)))
            } else {
                Err(CommandError::FailedPrecondition(format!(
                    "category table {} was published already, on {}; publish the change as a new version",
                    self.version, published.published_at
                )))
            };
        }
        let effective_at = self.effective_at.unwrap_or(now);
        if effective_at < now - CLOCK_SKEW {
            return Err(CommandError::invalid(
                "effective_at",
                format!("{effective_at} is past: decisions already made keep the table they used"),
            ));
        }
        let units: UnitsDocument = serde_json::from_str(&state.units.document)
            .map_err(|error| VersionsError::Damaged(error.to_string()))?;
        let table = CategoryTable {
            version: self.version.clone(),
            entries: self.entries.clone(),
        };
        DirectoryDocument::from_parts(units, table)
            .check()
            .map_err(|error| CommandError::invalid("categories", error.to_string()))?;
        Ok(Decided::quietly((
            category_table::Model {
                version: self.version.clone(),
                entries,
                effective_at,
                published_by: self.authorized.caller.subject.clone(),
                published_at: now,
            },
            true,
        )))
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (row, published): &Self::Outcome,
    ) -> Result<(), CommandError> {
        if !published {
            return Ok(());
        }
        category_table::Entity::insert(category_table::ActiveModel::from(row.clone()))
            .exec_without_returning(transaction)
            .await?;
        self.authorized
            .audit_in(
                transaction,
                None,
                &format!(
                    "published category table {} ({} categories), effective {}",
                    row.version,
                    self.entries.len(),
                    row.effective_at
                ),
            )
            .await?;
        tracing::info!(version = %row.version, effective_at = %row.effective_at, "category table published");
        Ok(())
    }
}
