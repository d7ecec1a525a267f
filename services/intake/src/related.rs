//! Finds the earlier petitions a new one may relate to (`matching`): the same petitioner's
//! (by the keyed hash of the ID number or phone) within the repeat window, and others of
//! the same place and matter category within the collective window (the newest few
//! hundred: a collective matter's petitions come close together).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::sealing::KeyRing;

use crate::matching::{Earlier, MatchingRules};
use crate::petition::{NewPetition, SourceLevel};
use crate::sealed_identity::{ID_CARD, PHONE};
use crate::store::{petition, petitioner};

const NEARBY: u64 = 500;

fn since(now: OffsetDateTime, window: Duration) -> OffsetDateTime {
    time::Duration::try_from(window)
        .ok()
        .and_then(|window| now.checked_sub(window))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub async fn earlier_petitions<C: ConnectionTrait>(
    db: &C,
    keys: &KeyRing,
    new: &NewPetition,
    now: OffsetDateTime,
    rules: &MatchingRules,
) -> Result<Vec<Earlier>, DbErr> {
    let mut lookups = Condition::any();
    if let Some(who) = &new.petitioner {
        if let Some(id) = &who.id_card {
            lookups =
                lookups.add(petitioner::Column::IdCardLookup.eq(keys.lookup(ID_CARD, id.as_str())));
        }
        if let Some(phone) = &who.phone {
            lookups =
                lookups.add(petitioner::Column::PhoneLookup.eq(keys.lookup(PHONE, phone.as_str())));
        }
    }
    let same: HashSet<Uuid> = if lookups.is_empty() {
        HashSet::new()
    } else {
        petitioner::Entity::find()
            .select_only()
            .column(petitioner::Column::CaseId)
            .filter(lookups)
            .into_tuple::<Uuid>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let mut found: HashMap<Uuid, petition::Model> = HashMap::new();
    if !same.is_empty() {
        // Whenever registered: first-time means none ever.
        let theirs = petition::Entity::find()
            .filter(petition::Column::CaseId.is_in(same.iter().copied()))
            .all(db)
            .await?;
        found.extend(theirs.into_iter().map(|row| (row.case_id, row)));
    }
    // A collective matter is compared by its first case, which its members are near
    // identical to: a campaign of a thousand letters must not cost each new one a
    // thousand comparisons (nor crowd out the other petitions of the place).
    let nearby = petition::Entity::find()
        .filter(petition::Column::TerritoryCode.eq(new.territory.as_str()))
        .filter(petition::Column::MatterCategory.eq(new.matter_category.as_str()))
        .filter(
            Condition::any()
                .add(petition::Column::CollectiveMatterCaseId.is_null())
                .add(
                    Expr::col(petition::Column::CollectiveMatterCaseId)
                        .equals(petition::Column::CaseId),
                ),
        )
        .filter(petition::Column::RegisteredAt.gte(since(now, rules.collective_window)))
        .order_by_desc(petition::Column::RegisteredAt)
        .limit(NEARBY)
        .all(db)
        .await?;
    found.extend(nearby.into_iter().map(|row| (row.case_id, row)));
    Ok(found
        .into_values()
        .map(|row| Earlier {
            same_petitioner: same.contains(&row.case_id),
            source_level: SourceLevel::from_code(&row.source_level).unwrap_or(SourceLevel::Local),
            text: format!("{}{}", row.title, row.content),
            repeat_of: row.repeat_of_case_id.zip(row.repeat_of_case_number),
            collective_matter: row
                .collective_matter_case_id
                .zip(row.collective_matter_case_number),
            case_id: row.case_id,
            case_number: row.case_number,
            registered_at: row.registered_at,
        })
        .collect())
}
