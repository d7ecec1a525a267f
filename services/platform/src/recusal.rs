//! Recusal (回避, Art 28): a staff member with a declared interest in a case, or in every
//! case of a unit (and of the units under it), is never given it to handle and is refused
//! when reading it, in every service that serves cases. Supervision records the interests
//! (and publishes `RecusalChanged`); intake and routing keep a copy with [`KeepRecusals`].
//! [`crate::auth::Authorized`] checks them on every read of one case and filters lists.

pub mod entity;

use std::collections::HashSet;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_proto::supervision::v1::{Recusal, RecusalChanged};

use crate::consumer::{Failure, Handler, decode_event};
use crate::envelope::Envelope;
use crate::wire;
use crate::write::{Change, Decided};

/// The cases and units one person may not handle or read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recusals {
    cases: HashSet<Uuid>,
    units: Vec<String>,
}

impl Recusals {
    /// The interests `subject` declared and has not withdrawn.
    pub async fn of<C: ConnectionTrait>(db: &C, subject: &str) -> Result<Self, DbErr> {
        let rows = entity::Entity::find()
            .filter(entity::Column::Subject.eq(subject))
            .filter(entity::Column::WithdrawnAt.is_null())
            .all(db)
            .await?;
        Ok(Self {
            cases: rows.iter().filter_map(|row| row.case_id).collect(),
            units: rows.into_iter().filter_map(|row| row.unit_code).collect(),
        })
    }

    /// Whether the case (routed to the unit at the end of `unit_path`) is one the person
    /// declared an interest in: the case itself, or a unit on its path.
    pub fn excludes(&self, case_id: Uuid, unit_path: Option<&[String]>) -> bool {
        self.cases.contains(&case_id)
            || unit_path.is_some_and(|path| path.iter().any(|unit| self.units.contains(unit)))
    }

    /// Whether a record naming these cases, about this unit (a watch-list entry, an
    /// inspection), touches an interest: one of its cases, or its unit.
    pub fn excludes_record(&self, cases: &[Uuid], unit: &str) -> bool {
        cases.iter().any(|case| self.cases.contains(case)) || self.units.iter().any(|u| u == unit)
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty() && self.units.is_empty()
    }

    /// A list query's condition leaving these cases out in SQL, before its page is cut, so
    /// that neither a page nor its token reveals one: not these case ids, and no unit path
    /// (`path`, stored `/a/b/`) through these units.
    pub fn exclusion<C: ColumnTrait, P: ColumnTrait>(&self, case: C, path: P) -> Condition {
        self.units.iter().fold(
            Condition::all().add(case.is_not_in(self.cases.iter().copied())),
            |all, unit| all.add(path.not_like(format!("%/{unit}/%"))),
        )
    }

    /// The same for a table whose path lies in another table (`cases_on` selects the ids
    /// of the cases whose path goes through one of these units).
    pub fn case_exclusion<C: ColumnTrait, P: ColumnTrait>(
        &self,
        case: C,
        path_table_case: P,
        path_table_path: impl ColumnTrait,
    ) -> Condition {
        let through = self.units.iter().fold(Condition::any(), |any, unit| {
            any.add(path_table_path.like(format!("%/{unit}/%")))
        });
        let mut condition = Condition::all().add(case.is_not_in(self.cases.iter().copied()));
        if !self.units.is_empty() {
            condition = condition.add(
                case.not_in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(path_table_case)
                        .from(path_table_case.entity_name())
                        .cond_where(through)
                        .to_owned(),
                ),
            );
        }
        condition
    }
}

/// Keeps the copy of supervision's recusals (consumers `intake-recusals`,
/// `routing-recusals`).
pub struct KeepRecusals;

impl Handler for KeepRecusals {
    type Event = entity::Model;
    type Change = StoreRecusal;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<entity::Model, String> {
        let event: RecusalChanged = decode_event(envelope, payload)?;
        let recusal = event.recusal.ok_or("recusal is required")?;
        from_proto(&recusal)
    }

    fn change(&self, _envelope: &Envelope, recusal: &entity::Model) -> StoreRecusal {
        StoreRecusal(recusal.clone())
    }
}

/// A recusal as an event carries it (without its reason), checked.
pub fn from_proto(recusal: &Recusal) -> Result<entity::Model, String> {
    let recusal_id =
        Uuid::parse_str(&recusal.recusal_id).map_err(|_| "recusal_id must be a UUID".to_owned())?;
    let case_id = match recusal.case_id.as_str() {
        "" => None,
        text => Some(Uuid::parse_str(text).map_err(|_| "case_id must be a UUID".to_owned())?),
    };
    let unit_code = Some(recusal.unit_code.clone()).filter(|code| !code.is_empty());
    if recusal.subject.is_empty() || case_id.is_some() == unit_code.is_some() {
        return Err("a recusal names a subject and exactly one of a case and a unit".to_owned());
    }
    let time = |at: Option<&prost_types::Timestamp>| wire::from_timestamp(at);
    Ok(entity::Model {
        recusal_id,
        subject: recusal.subject.clone(),
        case_id,
        unit_code,
        reason: String::new(),
        declared_by: recusal.declared_by.clone(),
        declared_at: time(recusal.declared_at.as_ref())
            .map_err(|why| format!("declared_at {why}"))?,
        withdrawn_at: match recusal.withdrawn_at.as_ref() {
            None => None,
            at => Some(time(at).map_err(|why| format!("withdrawn_at {why}"))?),
        },
    })
}

/// A recusal as supervision's event carries it: without the reason, which may name people.
pub fn to_proto(row: &entity::Model) -> Recusal {
    Recusal {
        recusal_id: row.recusal_id.to_string(),
        subject: row.subject.clone(),
        case_id: row.case_id.map(|id| id.to_string()).unwrap_or_default(),
        unit_code: row.unit_code.clone().unwrap_or_default(),
        reason: String::new(),
        declared_by: row.declared_by.clone(),
        declared_at: Some(wire::timestamp(row.declared_at)),
        withdrawn_at: row.withdrawn_at.map(wire::timestamp),
    }
}

/// Writes one recusal: a withdrawal is never undone by a late copy of its declaration.
pub struct StoreRecusal(entity::Model);

impl Change for StoreRecusal {
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
        store(transaction, &self.0).await?;
        Ok(())
    }
}

/// Inserts the recusal, or records its withdrawal; a withdrawal stays withdrawn.
pub async fn store<C: ConnectionTrait>(db: &C, row: &entity::Model) -> Result<(), DbErr> {
    let mut on_conflict = OnConflict::column(entity::Column::RecusalId);
    if row.withdrawn_at.is_some() {
        on_conflict.update_column(entity::Column::WithdrawnAt);
    } else {
        on_conflict.do_nothing();
    }
    entity::Entity::insert(entity::ActiveModel::from(row.clone()))
        .on_conflict(on_conflict.to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(units: &[&str]) -> Vec<String> {
        units.iter().map(|unit| (*unit).to_owned()).collect()
    }

    #[test]
    fn an_interest_in_a_unit_covers_the_cases_of_the_units_under_it() {
        let recusals = Recusals {
            cases: HashSet::new(),
            units: vec!["zhaocun".into()],
        };
        let case = Uuid::now_v7();
        assert!(recusals.excludes(case, Some(&path(&["zhaocun", "zhaocun-tiefo"]))));
        assert!(recusals.excludes(case, Some(&path(&["zhaocun"]))));
        assert!(!recusals.excludes(case, Some(&path(&["dongcheng"]))));
        assert!(!recusals.excludes(case, None));
    }

    #[test]
    fn an_interest_in_a_case_covers_that_case_wherever_it_is() {
        let case = Uuid::now_v7();
        let recusals = Recusals {
            cases: HashSet::from([case]),
            units: Vec::new(),
        };
        assert!(recusals.excludes(case, None));
        assert!(recusals.excludes(case, Some(&path(&["dongcheng"]))));
        assert!(!recusals.excludes(Uuid::now_v7(), None));
    }

    #[test]
    fn a_watch_entry_or_inspection_about_an_interest_is_left_out() {
        let case = Uuid::now_v7();
        let recusals = Recusals {
            cases: HashSet::from([case]),
            units: vec!["zhaocun".into()],
        };
        assert!(recusals.excludes_record(&[Uuid::now_v7(), case], "dongcheng"));
        assert!(recusals.excludes_record(&[], "zhaocun"));
        assert!(!recusals.excludes_record(&[Uuid::now_v7()], "dongcheng"));
    }

    #[test]
    fn a_recusal_names_exactly_one_of_a_case_and_a_unit() {
        let both = Recusal {
            recusal_id: Uuid::now_v7().to_string(),
            subject: "clerk-li".into(),
            case_id: Uuid::now_v7().to_string(),
            unit_code: "zhaocun".into(),
            declared_at: Some(wire::timestamp(OffsetDateTime::now_utc())),
            ..Default::default()
        };
        assert!(from_proto(&both).is_err());
        let neither = Recusal {
            case_id: String::new(),
            unit_code: String::new(),
            ..both.clone()
        };
        assert!(from_proto(&neither).is_err());
        let one = Recusal {
            unit_code: String::new(),
            ..both
        };
        assert!(from_proto(&one).is_ok());
    }
}
