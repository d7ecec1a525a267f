//! Finds the earlier petitions a new one may relate to (`matching`): the same petitioner's
//! (by the keyed hash of the ID number or phone) within the repeat window, and others of
//! the same place and matter category within the collective window (the newest few
//! hundred: a collective matter's petitions come close together).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::sealing::KeyRing;

use crate::matching::{Earlier, MatchingRules};
use crate::petition::{Channel, NewPetition, SourceLevel};
use crate::sealed_identity::{ID_CARD, PHONE};
use crate::store::{petition, petitioner};

/// The most petitions of the same place and matter whose texts are compared.
const NEARBY: u64 = 500;
/// How many of the place's recent petitions are looked through (ids only) to find them.
const RECENT: u64 = 20_000;

fn since(now: OffsetDateTime, window: Duration) -> OffsetDateTime {
    time::Duration::try_from(window)
        .ok()
        .and_then(|window| now.checked_sub(window))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// For a visit: which batch (批次) of its matter it is — the matter's visits so far, plus
/// one. The matter is the collective matter it joins, else the earlier case it repeats,
/// else it starts one (batch 1). `None` for anything but a visit. Read before the
/// registering transaction: two visits of one matter registered in the same instant may
/// share a number, which a clerk's look at the matter mends.
pub async fn visit_batch<C: ConnectionTrait>(
    db: &C,
    new: &NewPetition,
    matter: Option<Uuid>,
) -> Result<Option<u32>, DbErr> {
    if new.channel != Channel::Visit {
        return Ok(None);
    }
    let Some(root) = matter else {
        return Ok(Some(1));
    };
    let earlier = petition::Entity::find()
        .filter(petition::Column::Channel.eq(Channel::Visit.code()))
        .filter(
            Condition::any()
                .add(petition::Column::CaseId.eq(root))
                .add(petition::Column::CollectiveMatterCaseId.eq(root))
                .add(petition::Column::RepeatOfCaseId.eq(root)),
        )
        .count(db)
        .await?;
    Ok(Some(
        u32::try_from(earlier)
            .unwrap_or(u32::MAX - 1)
            .saturating_add(1),
    ))
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
    // An unidentified petition joins no collective matter (matching): no neighbours to read.
    let identified = new
        .petitioner
        .as_ref()
        .is_some_and(|who| who.id_card.is_some() || who.phone.is_some());
    if identified {
        found.extend(nearby(db, new, now, rules, &same).await?);
    }
    if !same.is_empty() {
        // Whenever registered: first-time means none ever.
        let theirs = petition::Entity::find()
            .filter(petition::Column::CaseId.is_in(same.iter().copied()))
            .all(db)
            .await?;
        found.extend(theirs.into_iter().map(|row| (row.case_id, row)));
    }
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

/// The same place's and matter's petitions a new one is compared with for a collective
/// matter. A collective matter is compared through its newest member of another petitioner:
/// its members are near identical, and a campaign of a thousand letters must not cost each
/// new one a thousand comparisons, nor crowd out the place's other petitions. The newest
/// member keeps the matter joinable for as long as the campaign goes on. Ids are scanned
/// first (at most `RECENT`), then at most `NEARBY` rows read.
async fn nearby<C: ConnectionTrait>(
    db: &C,
    new: &NewPetition,
    now: OffsetDateTime,
    rules: &MatchingRules,
    same: &HashSet<Uuid>,
) -> Result<Vec<(Uuid, petition::Model)>, DbErr> {
    let recent: Vec<(Uuid, Option<Uuid>)> = petition::Entity::find()
        .select_only()
        .column(petition::Column::CaseId)
        .column(petition::Column::CollectiveMatterCaseId)
        .filter(petition::Column::TerritoryCode.eq(new.territory.as_str()))
        .filter(petition::Column::MatterCategory.eq(new.matter_category.as_str()))
        .filter(petition::Column::RegisteredAt.gte(since(now, rules.collective_window)))
        .order_by_desc(petition::Column::RegisteredAt)
        .limit(RECENT)
        .into_tuple()
        .all(db)
        .await?;
    let mut matters = HashSet::new();
    let picked: Vec<Uuid> = recent
        .into_iter()
        .filter(|(case_id, matter)| {
            !same.contains(case_id) && matter.is_none_or(|matter| matters.insert(matter))
        })
        .map(|(case_id, _)| case_id)
        .take(NEARBY as usize)
        .collect();
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    Ok(petition::Entity::find()
        .filter(petition::Column::CaseId.is_in(picked))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.case_id, row))
        .collect())
}
