//! Receptions (接访) and visits down (下访): the roster of leaders who receive petitioners,
//! the sessions they held, and the figures a summary states from them ("city leaders'
//! receptions and visits down 78 times, 922 person-times, 7 visits down by the principal
//! leaders"). `figures` is plain: the sessions in, the three numbers out.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use time::OffsetDateTime;
use tonic::Status;
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, unit_path_of};
use xinfang_platform::grpc::{self, FieldViolation, QueryError, invalid_argument, next_page};
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided, WritePath};
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{self as api, ReceptionRecorded};

use crate::leaders::{level_code, level_of};
use crate::routed::SERVICE;
use crate::store::{case, leader, reception};

const KINDS: [(api::ReceptionKind, &str); 3] = [
    (api::ReceptionKind::Duty, "duty"),
    (api::ReceptionKind::Appointment, "appointment"),
    (api::ReceptionKind::VisitDown, "visit-down"),
];
const MAX_TEXT: usize = 200;
/// More people than any hall holds in one session: a typing mistake.
const MAX_PEOPLE: u32 = 10_000;
/// More petitions than one session takes.
const MAX_CASES: usize = 200;

fn kind_code(value: i32) -> Option<&'static str> {
    let kind = api::ReceptionKind::try_from(value).ok()?;
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, code)| *code)
}

fn kind_of(code: &str) -> api::ReceptionKind {
    KINDS
        .iter()
        .find(|(_, c)| *c == code)
        .map_or(api::ReceptionKind::Unspecified, |(kind, _)| *kind)
}

/// One session, as the figures need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionFact {
    pub visit_down: bool,
    pub people_received: u32,
    pub by_principal_leader: bool,
}

/// Sessions, person-times, and visits down by principal leaders.
pub fn figures(sessions: impl IntoIterator<Item = SessionFact>) -> api::ReceptionFigures {
    let mut figures = api::ReceptionFigures::default();
    for session in sessions {
        figures.sessions += 1;
        figures.person_times = figures.person_times.saturating_add(session.people_received);
        if session.visit_down && session.by_principal_leader {
            figures.visits_down_by_principal_leaders += 1;
        }
    }
    figures
}

#[derive(Debug, thiserror::Error)]
pub enum ReceptionError {
    #[error("{0}")]
    AlreadyExists(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl From<ReceptionError> for Status {
    fn from(error: ReceptionError) -> Self {
        match error {
            ReceptionError::AlreadyExists(why) => Status::already_exists(why),
            ReceptionError::Database(error) => {
                tracing::error!(error = %error, "database error");
                Status::unavailable("could not be recorded now; retry")
            }
        }
    }
}

/// A required one-line text: trimmed, without control characters, at most `MAX_TEXT`.
fn line(field: &str, value: &str, violations: &mut Vec<FieldViolation>) -> String {
    let value = value.trim();
    if value.is_empty() {
        violations.push(FieldViolation::new(field, "is required"));
    } else if value.chars().count() > MAX_TEXT {
        violations.push(FieldViolation::new(
            field,
            format!("is longer than {MAX_TEXT} characters"),
        ));
    } else if value.chars().any(char::is_control) {
        violations.push(FieldViolation::new(field, "holds a control character"));
    }
    value.to_owned()
}

fn leader_view(row: &leader::Model) -> api::Leader {
    api::Leader {
        id: row.id.clone(),
        name: row.name.clone(),
        post: row.post.clone(),
        level: level_of(&row.level) as i32,
        principal: row.principal,
    }
}

fn reception_view(row: &reception::Model) -> api::Reception {
    api::Reception {
        id: row.id.to_string(),
        leader_id: row.leader_id.clone(),
        kind: kind_of(&row.kind) as i32,
        held_at: Some(wire::timestamp(row.held_at)),
        place: row.place.clone(),
        people_received: u32::try_from(row.people_received).unwrap_or_default(),
        case_ids: serde_json::from_str(&row.case_ids).unwrap_or_default(),
        recorded_by: row.recorded_by.clone(),
        recorded_at: Some(wire::timestamp(row.recorded_at)),
    }
}

struct AddLeader {
    row: leader::Model,
    authorized: Authorized,
}

impl Change for AddLeader {
    type State = Option<leader::Model>;
    type Outcome = (leader::Model, bool);
    type Error = ReceptionError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, Self::Error> {
        Ok(leader::Entity::find_by_id(self.row.id.clone())
            .one(transaction)
            .await?)
    }

    fn decide(
        &self,
        earlier: Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, Self::Error> {
        let same = |a: &leader::Model, b: &leader::Model| {
            (&a.name, &a.post, &a.level, a.principal) == (&b.name, &b.post, &b.level, b.principal)
        };
        match earlier {
            // A retry.
            Some(earlier) if same(&earlier, &self.row) => Ok(Decided::quietly((earlier, false))),
            Some(earlier) => Err(ReceptionError::AlreadyExists(format!(
                "leader {} is already on the roster as {} ({}); choose another id",
                earlier.id, earlier.name, earlier.post
            ))),
            None => Ok(Decided::quietly((
                leader::Model {
                    added_at: now,
                    ..self.row.clone()
                },
                true,
            ))),
        }
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (row, new): &Self::Outcome,
    ) -> Result<(), Self::Error> {
        if !new {
            return Ok(());
        }
        leader::Entity::insert(leader::ActiveModel::from(row.clone()))
            .exec_without_returning(transaction)
            .await?;
        self.authorized
            .audit_in(
                transaction,
                None,
                &format!("roster: added leader {}", row.id),
            )
            .await?;
        Ok(())
    }
}

pub async fn add_leader(
    write: &WritePath,
    authorized: Authorized,
    request: &api::AddLeaderRequest,
) -> Result<api::Leader, Status> {
    let given = request.leader.clone().unwrap_or_default();
    let mut violations = Vec::new();
    let id_ok = !given.id.is_empty()
        && given.id.len() <= 64
        && given
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !id_ok {
        violations.push(FieldViolation::new(
            "leader.id",
            "a code of a-z, 0-9 and '-', at most 64 characters",
        ));
    }
    let name = line("leader.name", &given.name, &mut violations);
    let post = line("leader.post", &given.post, &mut violations);
    let level = level_code(given.level);
    if level.is_none() {
        violations.push(FieldViolation::new(
            "leader.level",
            "is required: PROVINCE, PREFECTURE, CITY or TOWN",
        ));
    }
    let Some(level) = level.filter(|_| violations.is_empty()) else {
        return Err(invalid_argument(&violations));
    };
    let row = leader::Model {
        id: given.id,
        name,
        post,
        level: level.to_owned(),
        principal: given.principal,
        added_by: authorized.caller.subject.clone(),
        added_at: write.clock.now(),
    };
    let (row, _) = write.execute(AddLeader { row, authorized }).await?;
    Ok(leader_view(&row))
}

pub async fn list_leaders(
    db: &DatabaseConnection,
    authorized: &Authorized,
    request: &api::ListLeadersRequest,
) -> Result<api::ListLeadersResponse, Status> {
    let mut query = leader::Entity::find().order_by_asc(leader::Column::Id);
    if let Some(level) = level_code(request.level) {
        query = query.filter(leader::Column::Level.eq(level));
    }
    let rows = query.all(db).await.map_err(QueryError::from)?;
    authorized
        .audit(None, true, &format!("listed {} leaders", rows.len()))
        .await?;
    Ok(api::ListLeadersResponse {
        leaders: rows.iter().map(leader_view).collect(),
    })
}

struct AddReception {
    row: reception::Model,
    authorized: Authorized,
}

impl Change for AddReception {
    /// The session recorded under this request id, one of the leader at that time, and the
    /// leader (the event tells statistics the level and whether a principal leader).
    type State = (
        Option<reception::Model>,
        Option<reception::Model>,
        Option<leader::Model>,
    );
    type Outcome = (reception::Model, bool);
    type Error = ReceptionError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Self::State, Self::Error> {
        let requested = reception::Entity::find()
            .filter(reception::Column::RequestId.eq(self.row.request_id))
            .one(transaction)
            .await?;
        let same_session = reception::Entity::find()
            .filter(reception::Column::LeaderId.eq(self.row.leader_id.clone()))
            .filter(reception::Column::HeldAt.eq(self.row.held_at))
            .one(transaction)
            .await?;
        let leader = leader::Entity::find_by_id(self.row.leader_id.clone())
            .one(transaction)
            .await?;
        Ok((requested, same_session, leader))
    }

    fn decide(
        &self,
        (requested, same_session, leader): Self::State,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, Self::Error> {
        match (requested, same_session) {
            // A retry.
            (Some(earlier), _) => Ok(Decided::quietly((earlier, false))),
            // Entered again (another desk, a clerk re-entering it): counted once.
            (None, Some(earlier)) => Err(ReceptionError::AlreadyExists(format!(
                "leader {}'s session at {} is already recorded (reception {})",
                earlier.leader_id, earlier.held_at, earlier.id
            ))),
            (None, None) => {
                let row = reception::Model {
                    recorded_at: now,
                    ..self.row.clone()
                };
                let event = OutgoingEvent::new(
                    subjects::RECEPTION_RECORDED.to_owned(),
                    SERVICE,
                    Uuid::nil(),
                    now,
                    &ReceptionRecorded {
                        reception_id: row.id.to_string(),
                        leader_id: row.leader_id.clone(),
                        level: leader
                            .as_ref()
                            .map_or(0, |leader| level_of(&leader.level) as i32),
                        principal: leader.is_some_and(|leader| leader.principal),
                        kind: kind_of(&row.kind) as i32,
                        held_at: Some(wire::timestamp(row.held_at)),
                        people_received: u32::try_from(row.people_received).unwrap_or_default(),
                    },
                );
                Ok(Decided {
                    outcome: (row, true),
                    events: vec![event],
                })
            }
        }
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (row, new): &Self::Outcome,
    ) -> Result<(), Self::Error> {
        if !new {
            return Ok(());
        }
        reception::Entity::insert(reception::ActiveModel::from(row.clone()))
            .exec_without_returning(transaction)
            .await?;
        self.authorized
            .audit_in(
                transaction,
                None,
                &format!("reception {} by {}", row.id, row.leader_id),
            )
            .await?;
        Ok(())
    }
}

pub async fn record_reception(
    write: &WritePath,
    authorized: Authorized,
    request: &api::RecordReceptionRequest,
) -> Result<api::Reception, Status> {
    let mut violations = Vec::new();
    let request_id = Uuid::parse_str(&request.request_id)
        .map_err(|_| violations.push(FieldViolation::new("request_id", "must be a UUID")))
        .ok();
    let known = leader::Entity::find_by_id(request.leader_id.clone())
        .one(&write.db)
        .await
        .map_err(QueryError::from)?;
    if known.is_none() {
        violations.push(FieldViolation::new(
            "leader_id",
            format!("{:?} is not on the roster (AddLeader)", request.leader_id),
        ));
    }
    let kind = kind_code(request.kind);
    if kind.is_none() {
        violations.push(FieldViolation::new(
            "kind",
            "is required: DUTY, APPOINTMENT or VISIT_DOWN",
        ));
    }
    let now = write.clock.now();
    let held_at = match wire::from_timestamp(request.held_at.as_ref()) {
        Ok(at) if at > now => {
            violations.push(FieldViolation::new(
                "held_at",
                "is in the future: record a session once held",
            ));
            None
        }
        // To the second: SQLite keeps times as text, where a fraction would sort wrongly
        // against a period's bound.
        Ok(at) => at.replace_nanosecond(0).ok(),
        Err(why) => {
            violations.push(FieldViolation::new("held_at", why));
            None
        }
    };
    let place = line("place", &request.place, &mut violations);
    if request.people_received > MAX_PEOPLE {
        violations.push(FieldViolation::new(
            "people_received",
            format!("more than {MAX_PEOPLE} in one session"),
        ));
    }
    let mut cases = std::collections::BTreeSet::new();
    if request.case_ids.len() > MAX_CASES {
        violations.push(FieldViolation::new(
            "case_ids",
            format!("at most {MAX_CASES} petitions per session"),
        ));
    } else {
        for (index, id) in request.case_ids.iter().enumerate() {
            match Uuid::parse_str(id) {
                Ok(id) => {
                    cases.insert(id);
                }
                Err(_) => violations.push(FieldViolation::new(
                    format!("case_ids[{index}]"),
                    "must be a UUID",
                )),
            }
        }
    }
    let (Some(request_id), Some(kind), Some(held_at), Some(known)) =
        (request_id, kind, held_at, known)
    else {
        return Err(invalid_argument(&violations));
    };
    if !violations.is_empty() {
        return Err(invalid_argument(&violations));
    }
    let case_ids: Vec<String> = cases.iter().map(Uuid::to_string).collect();
    let row = reception::Model {
        id: Uuid::now_v7(),
        request_id,
        leader_id: request.leader_id.clone(),
        leader_level: known.level,
        by_principal_leader: known.principal,
        kind: kind.to_owned(),
        held_at,
        place,
        people_received: i32::try_from(request.people_received).unwrap_or(i32::MAX),
        case_ids: serde_json::to_string(&case_ids).unwrap_or_else(|_| "[]".to_owned()),
        recorded_by: authorized.caller.subject.clone(),
        recorded_at: now,
    };
    let (leader_id, held_at) = (row.leader_id.clone(), row.held_at);
    let (row, _) = match write.execute(AddReception { row, authorized }).await {
        // Another desk entered the same session in the same instant.
        Err(ReceptionError::Database(error))
            if matches!(
                error.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Err(Status::already_exists(format!(
                "leader {leader_id}'s session at {held_at} is already recorded"
            )));
        }
        outcome => outcome?,
    };
    Ok(reception_view(&row))
}

/// Which sessions a list or the figures take: a period, a level, a leader.
struct Selection<'a> {
    from: Option<&'a prost_types::Timestamp>,
    to: Option<&'a prost_types::Timestamp>,
    level: i32,
    leader_id: &'a str,
}

impl Selection<'_> {
    fn query(&self) -> Result<sea_orm::Select<reception::Entity>, Status> {
        let mut violations = Vec::new();
        let mut bound = |field: &str, value: Option<&prost_types::Timestamp>| {
            value.and_then(|value| {
                wire::from_timestamp(Some(value))
                    .map_err(|why| violations.push(FieldViolation::new(field, why)))
                    .ok()
            })
        };
        let (from, to) = (bound("from", self.from), bound("to", self.to));
        let level = level_code(self.level);
        if level.is_none() && self.level != 0 {
            violations.push(FieldViolation::new("level", "is not a known leader level"));
        }
        if !violations.is_empty() {
            return Err(invalid_argument(&violations));
        }
        let mut query = reception::Entity::find();
        if let Some(from) = from {
            query = query.filter(reception::Column::HeldAt.gte(from));
        }
        if let Some(to) = to {
            query = query.filter(reception::Column::HeldAt.lt(to));
        }
        if let Some(level) = level {
            query = query.filter(reception::Column::LeaderLevel.eq(level));
        }
        if !self.leader_id.is_empty() {
            query = query.filter(reception::Column::LeaderId.eq(self.leader_id.to_owned()));
        }
        Ok(query)
    }
}

/// The figures over every session `query` selects, read lean.
async fn figures_of(
    db: &DatabaseConnection,
    query: sea_orm::Select<reception::Entity>,
) -> Result<api::ReceptionFigures, Status> {
    let selected: Vec<(String, i32, bool)> = query
        .select_only()
        .column(reception::Column::Kind)
        .column(reception::Column::PeopleReceived)
        .column(reception::Column::ByPrincipalLeader)
        .into_tuple()
        .all(db)
        .await
        .map_err(QueryError::from)?;
    Ok(figures(selected.iter().map(|(kind, people, principal)| {
        SessionFact {
            visit_down: kind == "visit-down",
            people_received: u32::try_from(*people).unwrap_or_default(),
            by_principal_leader: *principal,
        }
    })))
}

pub async fn list_receptions(
    db: &DatabaseConnection,
    authorized: &Authorized,
    request: &api::ListReceptionsRequest,
) -> Result<api::ListReceptionsResponse, Status> {
    let page_size = grpc::page_size(request.page_size).map_err(QueryError::from)?;
    let after: Option<Uuid> =
        grpc::parse_page_token(&request.page_token).map_err(QueryError::from)?;
    let mut query = Selection {
        from: request.from.as_ref(),
        to: request.to.as_ref(),
        level: request.level,
        leader_id: &request.leader_id,
    }
    .query()?;
    let figures = figures_of(db, query.clone()).await?;
    if let Some(after) = after {
        query = query.filter(reception::Column::Id.gt(after));
    }
    let mut rows = query
        .order_by_asc(reception::Column::Id)
        .limit(page_size + 1)
        .all(db)
        .await
        .map_err(QueryError::from)?;
    let next_page_token = next_page(&mut rows, page_size, |row| row.id.to_string());
    let mut receptions: Vec<api::Reception> = rows.iter().map(reception_view).collect();
    // A case the reader declared an interest in (Art 28) is left out of the session; the
    // session itself, and the figures, stay.
    let recusals = authorized.recusals().await?;
    if !recusals.is_empty() {
        let named: std::collections::BTreeSet<Uuid> = receptions
            .iter()
            .flat_map(|r| r.case_ids.iter().filter_map(|id| Uuid::parse_str(id).ok()))
            .collect();
        let named: Vec<Uuid> = named.into_iter().collect();
        let mut paths: HashMap<Uuid, Vec<String>> = HashMap::new();
        // In chunks: a page may name thousands of cases, more than one statement binds.
        for chunk in named.chunks(1000) {
            let rows = case::Entity::find()
                .filter(case::Column::CaseId.is_in(chunk.iter().copied()))
                .all(db)
                .await
                .map_err(QueryError::from)?;
            paths.extend(
                rows.into_iter()
                    .map(|row| (row.case_id, unit_path_of(&row.unit_path))),
            );
        }
        for reception in &mut receptions {
            reception.case_ids.retain(|id| {
                Uuid::parse_str(id)
                    .is_ok_and(|id| !recusals.excludes(id, paths.get(&id).map(Vec::as_slice)))
            });
        }
    }
    authorized
        .audit(
            None,
            true,
            &format!("listed {} receptions", receptions.len()),
        )
        .await?;
    Ok(api::ListReceptionsResponse {
        receptions,
        next_page_token,
        figures: Some(figures),
    })
}

pub async fn reception_figures(
    db: &DatabaseConnection,
    authorized: &Authorized,
    request: &api::GetReceptionFiguresRequest,
) -> Result<api::ReceptionFigures, Status> {
    let query = Selection {
        from: request.from.as_ref(),
        to: request.to.as_ref(),
        level: request.level,
        leader_id: &request.leader_id,
    }
    .query()?;
    let figures = figures_of(db, query).await?;
    authorized
        .audit(None, true, "read the reception figures")
        .await?;
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(visit_down: bool, people: u32, principal: bool) -> SessionFact {
        SessionFact {
            visit_down,
            people_received: people,
            by_principal_leader: principal,
        }
    }

    #[test]
    fn every_session_counts_once_and_only_principal_leaders_visits_down_count_apart() {
        let figures = figures([
            session(false, 12, true), // a principal leader's duty reception
            session(true, 30, true),  // a principal leader's visit down
            session(true, 8, false),  // a deputy's visit down
            session(false, 0, false), // a duty day nobody came to
        ]);
        assert_eq!(
            figures,
            api::ReceptionFigures {
                sessions: 4,
                person_times: 50,
                visits_down_by_principal_leaders: 1,
            }
        );
    }

    #[test]
    fn kinds_are_spelled_once_each_way() {
        for (kind, code) in KINDS {
            assert_eq!(kind_code(kind as i32), Some(code));
            assert_eq!(kind_of(code), kind);
        }
        assert_eq!(kind_code(0), None);
        assert_eq!(kind_code(99), None);
    }
}
