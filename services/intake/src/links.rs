//! One case, many upstreams (DOMAIN.md, "Channels and sources"): the same matter sent down by
//! the national and the provincial bureau is one case carrying every bureau's reference,
//! level, forward-or-assign and deadline. Registration proposes the case a petition from a
//! higher bureau belongs to; a clerk links it, and the case then answers to each bureau.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::auth::Authorized;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::intake::v1::UpstreamLinked;
use xinfang_proto::{subjects, v1 as proto};

use crate::matching::Classification;
use crate::petition::{NewPetition, SourceLevel};
use crate::register::SERVICE;
use crate::store::{petition, petition_scope};
use crate::view;

/// Why registration proposes a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkReason {
    /// The case already carries this higher bureau's reference.
    SameUpstreamReference,
    /// The same petitioner with near-identical text (what makes a repeat).
    SamePetitionerSimilarContent,
}

impl LinkReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::SameUpstreamReference => "same-upstream-reference",
            Self::SamePetitionerSimilarContent => "same-petitioner-similar-content",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::SameUpstreamReference,
            Self::SamePetitionerSimilarContent,
        ]
        .into_iter()
        .find(|reason| reason.code() == code)
    }

    pub fn to_proto(self) -> proto::LinkReason {
        match self {
            Self::SameUpstreamReference => proto::LinkReason::SameUpstreamReference,
            Self::SamePetitionerSimilarContent => proto::LinkReason::SamePetitionerSimilarContent,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub case_id: Uuid,
    pub case_number: String,
    pub reason: LinkReason,
}

/// The case a petition from a higher bureau looks like, if any: first the case already
/// carrying its reference (the surest sign), else the case it repeats. A petition
/// registered here proposes nothing: its earlier case is a repeat's, handled as one.
pub fn propose(
    from_upstream: bool,
    same_reference: Option<(Uuid, String)>,
    repeats: Option<(Uuid, String)>,
) -> Option<Proposal> {
    if !from_upstream {
        return None;
    }
    let proposal = |(case_id, case_number): (Uuid, String), reason| Proposal {
        case_id,
        case_number,
        reason,
    };
    same_reference
        .map(|case| proposal(case, LinkReason::SameUpstreamReference))
        .or_else(|| repeats.map(|case| proposal(case, LinkReason::SamePetitionerSimilarContent)))
}

/// The case that carries a petition's matter: the one it was linked into, else its own.
fn carrier(row: &petition::Model) -> (Uuid, String) {
    match (row.linked_to_case_id, &row.linked_to_case_number) {
        (Some(id), Some(number)) => (id, number.clone()),
        _ => (row.case_id, row.case_number.clone()),
    }
}

/// Looks up what `propose` needs for a new petition.
pub async fn proposal<C: ConnectionTrait>(
    db: &C,
    new: &NewPetition,
    related: &Classification,
) -> Result<Option<Proposal>, DbErr> {
    let Some(upstream) = new.upstream.as_ref() else {
        return Ok(None);
    };
    let same_reference = petition::Entity::find()
        .filter(petition::Column::UpstreamReference.eq(upstream.reference.as_str()))
        .order_by_asc(petition::Column::RegisteredAt)
        .one(db)
        .await?
        .map(|row| carrier(&row));
    let repeats = match &related.repeat_of {
        Some((case_id, _)) => petition::Entity::find_by_id(*case_id)
            .one(db)
            .await?
            .map(|row| carrier(&row)),
        None => None,
    };
    Ok(propose(true, same_reference, repeats))
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("no petition with case id {0}")]
    NotFound(Uuid),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// A clerk's link of a petition into a case.
pub struct LinkUpstream {
    pub authorized: Authorized,
    pub case_id: Uuid,
    pub into_case_id: Uuid,
    pub reason: String,
}

pub struct Loaded {
    petition: petition::Model,
    into: petition::Model,
    /// Where routing put the petition, as intake last heard: `None` before it decided.
    scope: Option<petition_scope::Model>,
    linked_into_it: u64,
}

/// Why the link cannot be made, or `None` when it can.
fn refusal(loaded: &Loaded) -> Option<String> {
    let (petition, into) = (&loaded.petition, &loaded.into);
    if petition.case_id == into.case_id {
        return Some("a petition cannot be linked into itself".to_owned());
    }
    if petition.source_level == SourceLevel::Local.code() {
        return Some(format!(
            "case {} was registered here, not sent down by a higher bureau: it has no upstream to link (a repeat is linked at registration)",
            petition.case_number
        ));
    }
    if let Some(number) = &petition.linked_to_case_number {
        return Some(format!(
            "case {} is already linked into case {number}",
            petition.case_number
        ));
    }
    // Only a petition routing holds at the bureau: one with a unit is that unit's case, and
    // one routing has not decided on yet may be on its way to a unit.
    match &loaded.scope {
        None => {
            return Some(format!(
                "routing has not decided on case {} yet (intake has not heard); retry shortly",
                petition.case_number
            ));
        }
        Some(scope) if !scope.held => {
            return Some(format!(
                "case {} was routed to unit {}, which handles it; a clerk re-routes it or the unit objects before it can be linked",
                petition.case_number, scope.unit_code
            ));
        }
        Some(_) => {}
    }
    if loaded.linked_into_it > 0 {
        return Some(format!(
            "{} petition(s) are linked into case {}: link into the case that carries the matter instead",
            loaded.linked_into_it, petition.case_number
        ));
    }
    if let Some(number) = &into.linked_to_case_number {
        return Some(format!(
            "case {} is itself linked into case {number}: link into that one",
            into.case_number
        ));
    }
    None
}

impl Change for LinkUpstream {
    type State = Loaded;
    /// The petition as linked, and whether this call linked it (not a retry).
    type Outcome = (petition::Model, bool);
    type Error = LinkError;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Loaded, LinkError> {
        // Locked in id order, so two links crossing each other cannot deadlock.
        let mut ids = [self.case_id, self.into_case_id];
        ids.sort();
        let mut rows = petition::Entity::find()
            .filter(petition::Column::CaseId.is_in(ids))
            .order_by_asc(petition::Column::CaseId)
            .lock_exclusive()
            .all(transaction)
            .await?;
        let mut take = |id: Uuid| {
            rows.iter()
                .position(|row| row.case_id == id)
                .map(|at| rows.swap_remove(at))
                .ok_or(LinkError::NotFound(id))
        };
        let petition = take(self.case_id)?;
        let into = if self.into_case_id == self.case_id {
            petition.clone()
        } else {
            take(self.into_case_id)?
        };
        let scope = petition_scope::Entity::find_by_id(self.case_id)
            .one(transaction)
            .await?;
        let linked_into_it = petition::Entity::find()
            .filter(petition::Column::LinkedToCaseId.eq(self.case_id))
            .count(transaction)
            .await?;
        Ok(Loaded {
            petition,
            into,
            scope,
            linked_into_it,
        })
    }

    fn decide(
        &self,
        loaded: Loaded,
        now: OffsetDateTime,
    ) -> Result<Decided<Self::Outcome>, LinkError> {
        // Linking again into the same case answers the same, so a retry is safe.
        if loaded.petition.linked_to_case_id == Some(loaded.into.case_id) {
            return Ok(Decided::quietly((loaded.petition, false)));
        }
        if let Some(why) = refusal(&loaded) {
            return Err(LinkError::Refused(why));
        }
        let Loaded { petition, into, .. } = loaded;
        let linked = petition::Model {
            linked_to_case_id: Some(into.case_id),
            linked_to_case_number: Some(into.case_number.clone()),
            linked_at: Some(now),
            ..petition
        };
        let source = view::petition(&linked, None, None).source;
        let event = OutgoingEvent::new(
            subjects::PETITION_LINKED,
            SERVICE,
            into.case_id,
            now,
            &UpstreamLinked {
                case_id: into.case_id.to_string(),
                case_number: into.case_number,
                linked_case_id: linked.case_id.to_string(),
                linked_case_number: linked.case_number.clone(),
                source,
                received_at: Some(wire::timestamp(linked.received_at)),
                linked_at: Some(wire::timestamp(now)),
            },
        );
        Ok(Decided {
            outcome: (linked, true),
            events: vec![event],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        (linked, new): &Self::Outcome,
    ) -> Result<(), LinkError> {
        if !new {
            return Ok(());
        }
        let mut row = linked.clone().into_active_model();
        row.linked_to_case_id = Set(linked.linked_to_case_id);
        row.linked_to_case_number = Set(linked.linked_to_case_number.clone());
        row.linked_at = Set(linked.linked_at);
        row.update(transaction).await?;
        self.authorized
            .audit_in(
                transaction,
                Some(linked.case_id),
                &format!(
                    "linked into case {}: {}",
                    linked.linked_to_case_number.as_deref().unwrap_or_default(),
                    self.reason
                ),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(n: u128) -> (Uuid, String) {
        (Uuid::from_u128(n), format!("610481-2026-{n:06}"))
    }

    #[test]
    fn a_petition_registered_here_proposes_no_link() {
        assert_eq!(propose(false, Some(case(1)), Some(case(2))), None);
    }

    #[test]
    fn the_same_upstream_reference_is_proposed_before_a_repeat() {
        let proposal = propose(true, Some(case(1)), Some(case(2))).expect("a proposal");
        assert_eq!(proposal.case_id, Uuid::from_u128(1));
        assert_eq!(proposal.reason, LinkReason::SameUpstreamReference);
    }

    #[test]
    fn the_same_petitioner_with_near_identical_text_is_proposed_without_a_reference() {
        let proposal = propose(true, None, Some(case(2))).expect("a proposal");
        assert_eq!(proposal.case_number, "610481-2026-000002");
        assert_eq!(proposal.reason, LinkReason::SamePetitionerSimilarContent);
    }

    #[test]
    fn reason_codes_read_back() {
        for reason in [
            LinkReason::SameUpstreamReference,
            LinkReason::SamePetitionerSimilarContent,
        ] {
            assert_eq!(LinkReason::from_code(reason.code()), Some(reason));
        }
        assert_eq!(LinkReason::from_code("similar"), None);
    }
}
