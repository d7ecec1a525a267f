//! A tamper-evident audit trail: every audit row is sealed into a hash chain (`audit_seal`),
//! each seal's hash covering the row's every field and the seal before it. Rows are sealed
//! shortly after they commit, by one background task per service (one replica at a time:
//! PostgreSQL's advisory lock), in the order they become visible; so a row committed late is
//! sealed late, never skipped. `verify` walks the chain and names the first row that was
//! changed or removed. (Who can rewrite both a row and every seal after it, with the
//! triggers dropped, is not stopped by this; exporting the newest hash elsewhere is.)

use std::time::Duration;

use sea_orm::entity::prelude::*;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseBackend, DatabaseConnection, QueryOrder,
    QuerySelect, Statement, TransactionTrait,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::audit::entry;

pub mod seal_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_seal")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
        pub entry_id: i64,
        pub prev_hash: String,
        pub hash: String,
        pub sealed_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The hash before the first seal.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many rows one round seals at most.
const ROUND: u64 = 1_000;

/// How far behind the newest sealed row a row may commit and still be looked for, after the
/// first round of a start (which looks at every row): no transaction that writes an audit
/// row stays open while this many others commit.
const LATE_WINDOW: i64 = 100_000;

/// The PostgreSQL advisory lock one replica's sealer holds for a round.
const SEALER_LOCK: i64 = 0x5846_5345_414c; // "XFSEAL"

/// The seal's hash of one audit row after `prev`: every field, each length-prefixed, so no
/// two different rows hash alike.
pub fn hash(prev: &str, row: &entry::Model) -> String {
    let mut digest = Sha256::new();
    let micros = row.at.unix_timestamp_nanos() / 1_000;
    let case = row.case_id.map(|id| id.to_string()).unwrap_or_default();
    let fields: [&[u8]; 10] = [
        prev.as_bytes(),
        &row.id.to_be_bytes(),
        &micros.to_be_bytes(),
        row.subject.as_bytes(),
        row.roles.as_bytes(),
        row.units.as_bytes(),
        row.action.as_bytes(),
        case.as_bytes(),
        &[u8::from(row.allowed)],
        row.note.as_bytes(),
    ];
    for field in fields {
        digest.update((field.len() as u64).to_be_bytes());
        digest.update(field);
    }
    format!("{:x}", digest.finalize())
}

/// Seals every row not sealed yet, up to one round; how many it sealed (0 when another
/// replica holds the sealer's lock).
pub async fn seal_pending(db: &DatabaseConnection) -> Result<usize, DbErr> {
    seal_round(db, None, &mut 0).await
}

/// One round: rows not sealed yet, only those above `floor` when given (the rows before it
/// were looked at already). `highest` is the newest seal this sealer has seen: a chain
/// found shorter than that was cut back, and is not sealed over.
async fn seal_round(
    db: &DatabaseConnection,
    floor: Option<i64>,
    highest: &mut i64,
) -> Result<usize, DbErr> {
    let transaction = db.begin().await?;
    if transaction.get_database_backend() == DatabaseBackend::Postgres {
        let locked = transaction
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_try_advisory_xact_lock($1) AS locked",
                [SEALER_LOCK.into()],
            ))
            .await?
            .map(|row| row.try_get::<bool>("", "locked"))
            .transpose()?
            .unwrap_or(false);
        if !locked {
            transaction.rollback().await?;
            return Ok(0);
        }
    }
    let last = seal_row::Entity::find()
        .order_by_desc(seal_row::Column::Seq)
        .one(&transaction)
        .await?;
    if let Some(last) = &last
        && last.seq < *highest
    {
        transaction.rollback().await?;
        tracing::error!(
            newest = last.seq,
            seen = *highest,
            "the audit chain was cut back: not sealing over it; verify it (xinfang audit verify)"
        );
        return Ok(0);
    }
    let floor = floor.unwrap_or(0);
    let sealed = sea_orm::sea_query::Query::select()
        .column(seal_row::Column::EntryId)
        .from(seal_row::Entity)
        .and_where(seal_row::Column::EntryId.gt(floor))
        .to_owned();
    let pending = entry::Entity::find()
        .filter(entry::Column::Id.gt(floor))
        .filter(entry::Column::Id.not_in_subquery(sealed))
        .order_by_asc(entry::Column::Id)
        .limit(ROUND)
        .all(&transaction)
        .await?;
    let (mut seq, mut prev) = last.map_or((0, GENESIS.to_owned()), |last| (last.seq, last.hash));
    let now = OffsetDateTime::now_utc();
    for row in &pending {
        seq += 1;
        let sealed = hash(&prev, row);
        seal_row::Entity::insert(seal_row::ActiveModel {
            seq: Set(seq),
            entry_id: Set(row.id),
            prev_hash: Set(prev.clone()),
            hash: Set(sealed.clone()),
            sealed_at: Set(now),
        })
        .exec_without_returning(&transaction)
        .await?;
        prev = sealed;
    }
    transaction.commit().await?;
    *highest = seq;
    Ok(pending.len())
}

/// The newest sealed row's id, less the late window: where the next round starts looking.
async fn next_floor(db: &DatabaseConnection) -> Result<i64, DbErr> {
    let newest: Option<Option<i64>> = seal_row::Entity::find()
        .select_only()
        .column_as(seal_row::Column::EntryId.max(), "newest")
        .into_tuple()
        .one(db)
        .await?;
    Ok(newest.flatten().unwrap_or(0).saturating_sub(LATE_WINDOW))
}

/// Seals the audit rows every `interval` until `stop`; a failed round is logged and tried
/// again (the rows wait, unsealed, not lost).
pub async fn run(db: DatabaseConnection, interval: Duration, stop: CancellationToken) {
    // The first round looks at every row (those written while no sealer ran); later ones
    // only near the newest.
    let mut floor = None;
    let mut highest = 0;
    loop {
        match seal_round(&db, floor, &mut highest).await {
            // A full round: more wait; go on at once.
            Ok(sealed) if sealed as u64 == ROUND => continue,
            Ok(0) => {}
            Ok(sealed) => tracing::debug!(sealed, "audit rows sealed"),
            Err(error) => tracing::warn!(error = %error, "seal the audit rows"),
        }
        if let Ok(next) = next_floor(&db).await {
            floor = Some(next);
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// What walking the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every seal matches its row and the seal before it; `unsealed` rows wait for theirs.
    /// `head` is the newest seal's hash: recorded elsewhere, it shows later whether the
    /// chain was rebuilt.
    Intact {
        sealed: u64,
        unsealed: u64,
        head: String,
    },
    /// The first seal that does not match: the row was changed or removed, or the chain cut.
    Broken {
        seq: i64,
        entry_id: i64,
        why: String,
    },
}

/// Whether the chain still holds a seal with this hash (a head recorded before).
pub async fn holds<C: ConnectionTrait>(db: &C, hash: &str) -> Result<bool, DbErr> {
    Ok(seal_row::Entity::find()
        .filter(seal_row::Column::Hash.eq(hash.trim()))
        .one(db)
        .await?
        .is_some())
}

/// Walks the chain from the first seal.
pub async fn verify<C: ConnectionTrait>(db: &C) -> Result<Verification, DbErr> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    let mut after = 0;
    loop {
        let seals = seal_row::Entity::find()
            .filter(seal_row::Column::Seq.gt(after))
            .order_by_asc(seal_row::Column::Seq)
            .limit(ROUND)
            .all(db)
            .await?;
        if seals.is_empty() {
            break;
        }
        let rows: std::collections::HashMap<i64, entry::Model> = entry::Entity::find()
            .filter(entry::Column::Id.is_in(seals.iter().map(|seal| seal.entry_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        for seal in &seals {
            let broken = |why: &str| Verification::Broken {
                seq: seal.seq,
                entry_id: seal.entry_id,
                why: why.to_owned(),
            };
            if seal.seq != expected_seq {
                return Ok(broken("a seal before it is missing"));
            }
            if seal.prev_hash != prev {
                return Ok(broken("the seal does not follow the one before it"));
            }
            let Some(row) = rows.get(&seal.entry_id) else {
                return Ok(broken("the audit row was removed"));
            };
            if hash(&prev, row) != seal.hash {
                return Ok(broken("the audit row was changed"));
            }
            prev.clone_from(&seal.hash);
            expected_seq += 1;
            after = seal.seq;
        }
    }
    let sealed = u64::try_from(expected_seq - 1).unwrap_or_default();
    let total = entry::Entity::find().count(db).await?;
    Ok(Verification::Intact {
        sealed,
        unsealed: total.saturating_sub(sealed),
        head: prev,
    })
}
