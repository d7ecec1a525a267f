//! Which directory is in effect: the newest revision of the units, with the category table
//! whose effective time has come. Read from the database in the transaction of each
//! decision, so every replica routes by the same version; each version is parsed once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use time::OffsetDateTime;
use xinfang_platform::write::Clock;

use crate::directory::{CategoryTable, Directory, DirectoryDocument, UnitsDocument};
use crate::store::{category_table, unit_directory};

#[derive(Debug, thiserror::Error)]
pub enum VersionsError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    /// What the database holds does not make a directory: only a hand-edited row can.
    #[error("the stored directory is damaged: {0}")]
    Damaged(String),
}

/// Who published the category table read from the file at the first start.
pub const FROM_FILE: &str = "file";

/// A directory version: the units' revision and the category table's version.
type VersionKey = (i32, String);

/// The directory versions routing decides by, and a cache of the ones parsed.
#[derive(Clone)]
pub struct DirectoryVersions {
    clock: Clock,
    parsed: Arc<Mutex<HashMap<VersionKey, Arc<Directory>>>>,
}

impl DirectoryVersions {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            parsed: Arc::default(),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Keeps the directory read from the file as revision 1 and table in effect from now,
    /// unless the database has a directory already (the file is read at the first start
    /// only). Whether it was kept.
    pub async fn seed(
        &self,
        db: &sea_orm::DatabaseConnection,
        file: &Directory,
    ) -> Result<bool, VersionsError> {
        let now = self.now();
        let document = file.document();
        // Both rows or neither: a start cut off between them must not leave a directory
        // without a table.
        let db = db.begin().await?;
        let kept = unit_directory::Entity::insert(unit_directory::ActiveModel {
            revision: Set(1),
            document: Set(to_json(&document.units_part())?),
            change: Set("loaded from the directory file".to_owned()),
            changed_by: Set(FROM_FILE.to_owned()),
            recorded_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(unit_directory::Column::Revision)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&db)
        .await?;
        if kept == 0 {
            db.rollback().await?;
            return Ok(false);
        }
        category_table::Entity::insert(category_table::ActiveModel {
            version: Set(document.categories.version.clone()),
            entries: Set(to_json(&document.categories.entries)?),
            effective_at: Set(now),
            published_by: Set(FROM_FILE.to_owned()),
            published_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(category_table::Column::Version)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&db)
        .await?;
        db.commit().await?;
        Ok(true)
    }

    /// The directory in effect now.
    pub async fn in_effect<C: ConnectionTrait>(
        &self,
        db: &C,
    ) -> Result<Arc<Directory>, VersionsError> {
        self.in_effect_at(db, self.now()).await
    }

    /// The directory in effect at `at`: the newest units with the newest table effective
    /// by then (the first table, if none is yet: a replica whose clock runs behind the one
    /// that loaded the file).
    pub async fn in_effect_at<C: ConnectionTrait>(
        &self,
        db: &C,
        at: OffsetDateTime,
    ) -> Result<Arc<Directory>, VersionsError> {
        let units = newest_units(db).await?;
        let table = match category_table::Entity::find()
            .filter(category_table::Column::EffectiveAt.lte(at))
            .order_by_desc(category_table::Column::EffectiveAt)
            .order_by_desc(category_table::Column::PublishedAt)
            .one(db)
            .await?
        {
            Some(table) => table,
            None => category_table::Entity::find()
                .order_by_asc(category_table::Column::EffectiveAt)
                .one(db)
                .await?
                .ok_or_else(|| VersionsError::Damaged("no category table".to_owned()))?,
        };
        self.assemble(&units, &table)
    }

    /// The directory of these units and this table, parsed once.
    pub fn assemble(
        &self,
        units: &unit_directory::Model,
        table: &category_table::Model,
    ) -> Result<Arc<Directory>, VersionsError> {
        let key = (units.revision, table.version.clone());
        if let Some(found) = self.cached(&key) {
            return Ok(found);
        }
        let parts: UnitsDocument = from_json(&units.document)?;
        let categories = CategoryTable {
            version: table.version.clone(),
            entries: from_json(&table.entries)?,
        };
        let mut directory = DirectoryDocument::from_parts(parts, categories)
            .check()
            .map_err(|error| VersionsError::Damaged(error.to_string()))?;
        directory.revision = units.revision;
        directory.table_effective_at = Some(table.effective_at);
        let directory = Arc::new(directory);
        if let Ok(mut parsed) = self.parsed.lock() {
            parsed.insert(key, directory.clone());
        }
        Ok(directory)
    }

    fn cached(&self, key: &VersionKey) -> Option<Arc<Directory>> {
        self.parsed.lock().ok()?.get(key).cloned()
    }
}

/// Serialises the directory's changes with each other and with the decisions that read it:
/// a change takes the first revision's row exclusively, a decision shares it. Once it is
/// held, every later read of the transaction sees what the changes before it committed.
/// (SQLite has one writer at a time anyway and ignores row locks.)
pub async fn lock_directory(
    transaction: &DatabaseTransaction,
    exclusive: bool,
) -> Result<(), DbErr> {
    let query = unit_directory::Entity::find_by_id(1);
    let query = if exclusive {
        query.lock_exclusive()
    } else {
        query.lock_shared()
    };
    query.one(transaction).await?;
    Ok(())
}

/// Whether the database holds a directory (after the first start, it does).
pub async fn has_directory<C: ConnectionTrait>(db: &C) -> Result<bool, DbErr> {
    Ok(unit_directory::Entity::find().one(db).await?.is_some())
}

/// The newest revision of the units.
pub async fn newest_units<C: ConnectionTrait>(
    db: &C,
) -> Result<unit_directory::Model, VersionsError> {
    unit_directory::Entity::find()
        .order_by_desc(unit_directory::Column::Revision)
        .one(db)
        .await?
        .ok_or_else(|| VersionsError::Damaged("no directory revision".to_owned()))
}

pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, VersionsError> {
    serde_json::to_string(value).map_err(|error| VersionsError::Damaged(error.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, VersionsError> {
    serde_json::from_str(text).map_err(|error| VersionsError::Damaged(error.to_string()))
}
