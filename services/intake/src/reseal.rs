//! Keeps every stored identity sealed under the current key: rows from before sealing are
//! sealed (and their plaintext emptied), rows under an older key version are sealed again,
//! and the Art 36 hashes from before keyed hashes are replaced. Runs in the background on
//! every replica; each row is written only if nobody re-sealed it meanwhile, so replicas
//! may overlap.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use xinfang_platform::sealing::KeyRing;

use crate::sealed_identity;
use crate::store::{accused_person, final_matter, petitioner};

const PAGE: u64 = 200;

/// How many rows a pass re-sealed or re-hashed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    pub petitioners: usize,
    pub accused: usize,
    pub final_matters: usize,
}

/// One pass over every row not sealed under the current key.
pub async fn reseal_pending(db: &DatabaseConnection, keys: &KeyRing) -> Result<Resealed, DbErr> {
    let mut done = Resealed::default();
    let current = i32::try_from(keys.current_version()).unwrap_or(i32::MAX);
    // Older versions only: a row sealed under a newer key (by a replica restarted after a
    // rotation, while this one still runs with the old file) is not this replica's to touch.
    let stale = |column: petitioner::Column| {
        Condition::any()
            .add(column.is_null())
            .add(column.lt(current))
    };
    let mut after = Uuid::nil();
    loop {
        let rows = petitioner::Entity::find()
            .filter(stale(petitioner::Column::KeyVersion))
            .filter(petitioner::Column::CaseId.gt(after))
            .order_by_asc(petitioner::Column::CaseId)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.case_id;
        for row in rows {
            let record = match sealed_identity::open_petitioner(keys, &row) {
                Ok(record) => record,
                Err(error) => {
                    tracing::error!(case = %row.case_id, error = %error, "a petitioner does not open; left as it is");
                    continue;
                }
            };
            let sealed = sealed_identity::seal_petitioner(keys, row.case_id, &row.kind, &record);
            let written = petitioner::Entity::update_many()
                .col_expr(petitioner::Column::PlaintextName, Expr::value(""))
                .col_expr(
                    petitioner::Column::PlaintextIdCardNumber,
                    Expr::value(None::<String>),
                )
                .col_expr(
                    petitioner::Column::PlaintextPhone,
                    Expr::value(None::<String>),
                )
                .col_expr(
                    petitioner::Column::PlaintextAddress,
                    Expr::value(None::<String>),
                )
                .col_expr(petitioner::Column::Sealed, Expr::value(sealed.sealed))
                .col_expr(
                    petitioner::Column::KeyVersion,
                    Expr::value(sealed.key_version),
                )
                .col_expr(
                    petitioner::Column::IdCardLookup,
                    Expr::value(sealed.id_card_lookup),
                )
                .col_expr(
                    petitioner::Column::PhoneLookup,
                    Expr::value(sealed.phone_lookup),
                )
                .filter(petitioner::Column::CaseId.eq(row.case_id))
                .filter(same_version(
                    petitioner::Column::KeyVersion,
                    row.key_version,
                ))
                .exec(db)
                .await?;
            done.petitioners += written.rows_affected as usize;
        }
    }
    let mut after = Uuid::nil();
    loop {
        let rows = accused_person::Entity::find()
            .filter(
                Condition::any()
                    .add(accused_person::Column::KeyVersion.is_null())
                    .add(accused_person::Column::KeyVersion.lt(current)),
            )
            .filter(accused_person::Column::CaseId.gt(after))
            .order_by_asc(accused_person::Column::CaseId)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.case_id;
        for row in rows {
            let record = match sealed_identity::open_accused(keys, &row) {
                Ok(record) => record,
                Err(error) => {
                    tracing::error!(case = %row.case_id, error = %error, "an accused person does not open; left as it is");
                    continue;
                }
            };
            let sealed = sealed_identity::seal_accused(keys, row.case_id, &record);
            let written = accused_person::Entity::update_many()
                .col_expr(accused_person::Column::PlaintextName, Expr::value(""))
                .col_expr(
                    accused_person::Column::PlaintextPosition,
                    Expr::value(None::<String>),
                )
                .col_expr(
                    accused_person::Column::PlaintextUnitName,
                    Expr::value(None::<String>),
                )
                .col_expr(accused_person::Column::Sealed, Expr::value(sealed.sealed))
                .col_expr(
                    accused_person::Column::KeyVersion,
                    Expr::value(sealed.key_version),
                )
                .filter(accused_person::Column::CaseId.eq(row.case_id))
                .filter(same_version(
                    accused_person::Column::KeyVersion,
                    row.key_version,
                ))
                .exec(db)
                .await?;
            done.accused += written.rows_affected as usize;
        }
    }
    // Art 36 rows from before keyed hashes: the petitioner's row (sealed above) has the
    // keyed hash now.
    let unkeyed = final_matter::Entity::find()
        .filter(final_matter::Column::HashKeyed.eq(false))
        .all(db)
        .await?;
    for row in unkeyed {
        let lookup = petitioner::Entity::find_by_id(row.case_id)
            .one(db)
            .await?
            .and_then(|p| sealed_identity::id_card_lookup(keys, &p));
        let written = final_matter::Entity::update_many()
            .col_expr(final_matter::Column::IdCardHash, Expr::value(lookup))
            .col_expr(final_matter::Column::HashKeyed, Expr::value(true))
            .filter(final_matter::Column::CaseId.eq(row.case_id))
            .filter(final_matter::Column::HashKeyed.eq(false))
            .exec(db)
            .await?;
        done.final_matters += written.rows_affected as usize;
    }
    Ok(done)
}

fn same_version<C: ColumnTrait>(column: C, version: Option<i32>) -> sea_orm::sea_query::SimpleExpr {
    match version {
        Some(version) => column.eq(version),
        None => column.is_null(),
    }
}

/// Re-seals every `interval` until `stop`; a failed pass is logged and tried again.
pub async fn run(
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    interval: Duration,
    stop: CancellationToken,
) {
    loop {
        match reseal_pending(&db, &keys).await {
            Ok(done) if done != Resealed::default() => {
                tracing::info!(
                    petitioners = done.petitioners,
                    accused = done.accused,
                    final_matters = done.final_matters,
                    "identities sealed under the current key"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "re-seal the identities"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
