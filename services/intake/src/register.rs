//! Registering a petition through the write path: one transaction stores the petition and
//! its petitioner under its case number and stages the `PetitionRegistered` event. The
//! caller is answered only after it committed.

use std::sync::Arc;

use prost::Message;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, SqlErr,
};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::auth::Authorized;
use xinfang_platform::database;
use xinfang_platform::grpc::FieldViolation;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::sealing::KeyRing;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided, WritePath};
use xinfang_proto::intake::v1::PetitionRegistered;
use xinfang_proto::{subjects, v1 as proto};

use crate::case_number::{CaseNumber, registration_year};
use crate::codes::RegionCode;
use crate::links::Proposal;
use crate::matching::{self, Classification, MatchingRules, NewText};
use crate::numbering::{self, NumberSource};
use crate::petition::NewPetition;
use crate::query_code;
use crate::sealed_identity::{self, AccusedRecord, PetitionerRecord};
use crate::store::{accused_person, attachment, petition, petitioner};

pub const SERVICE: &str = "intake";

/// What registration needs to know about the bureau.
#[derive(Debug, Clone)]
pub struct Registrar {
    pub region: RegionCode,
    /// From this many people up, a petition is collective (集体访); DOMAIN.md's default is 5.
    pub collective_threshold: u32,
    pub numbers: NumberSource,
    /// How many times a registration is tried when pooled connections turn out dead (after
    /// a database restart): one more than the pool holds.
    pub connection_attempts: u32,
    /// Seals the identities and hashes the look-ups and query codes.
    pub keys: Arc<KeyRing>,
    /// What makes a petition a repeat or part of a collective matter.
    pub matching: MatchingRules,
}

/// One CreatePetition call, parsed.
#[derive(Clone)]
pub struct Registration {
    pub request_id: Uuid,
    /// A hash of the petition as sent, to tell a retry from a different petition (keyed).
    pub fingerprint: Vec<u8>,
    /// The plain SHA-256 such rows held before fingerprints were keyed: a retry spanning
    /// the upgrade still finds its petition.
    pub legacy_fingerprint: Vec<u8>,
    pub petition: NewPetition,
    /// The unit at whose own desk it is registered (首接首办); `None` for the bureau.
    pub registering_unit: Option<String>,
}

impl Registration {
    /// Parses what a caller sent, naming every wrong field at once. `registering_unit` is
    /// the desk, already checked against the caller.
    pub fn parse(
        request_id: &str,
        petition: Option<&proto::Petition>,
        registering_unit: Result<Option<String>, FieldViolation>,
        now: OffsetDateTime,
        keys: &KeyRing,
    ) -> Result<Self, Vec<FieldViolation>> {
        let request_id = Uuid::parse_str(request_id).map_err(|_| {
            FieldViolation::new("request_id", "must be a UUID chosen once per petition")
        });
        match (
            request_id,
            NewPetition::parse(petition, now),
            registering_unit,
        ) {
            (Ok(request_id), Ok(parsed), Ok(registering_unit)) => Ok(Registration {
                request_id,
                fingerprint: fingerprint(petition, keys),
                legacy_fingerprint: legacy_fingerprint(petition),
                petition: parsed,
                registering_unit,
            }),
            (request_id, parsed, desk) => {
                let mut violations: Vec<FieldViolation> = request_id.err().into_iter().collect();
                violations.extend(parsed.err().unwrap_or_default());
                violations.extend(desk.err());
                Err(violations)
            }
        }
    }
}

/// Keyed: the request holds the petitioner's identity, which a plain hash stored beside the
/// petition would let anyone confirm a guess of.
fn fingerprint(petition: Option<&proto::Petition>, keys: &KeyRing) -> Vec<u8> {
    let encoded = petition.map(Message::encode_to_vec).unwrap_or_default();
    keys.keyed_digest("request", &encoded)
}

/// What fingerprints were before they were keyed, to answer a retry across the upgrade.
fn legacy_fingerprint(petition: Option<&proto::Petition>) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let encoded = petition.map(Message::encode_to_vec).unwrap_or_default();
    Sha256::digest(encoded).to_vec()
}

/// The stored petition; `new` is false when this answers a retry.
pub struct Registered {
    pub petition: petition::Model,
    pub petitioner: Option<petitioner::Model>,
    pub new: bool,
    /// The query code, given once: on the answer that registered the petition.
    pub query_code: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("request id {0} was already used for a different petition")]
    RequestIdReused(Uuid),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// Registers the petition; `registering` is the caller, audited in the same transaction.
///
/// A registration that met a dead pooled connection is tried again at once, as the client
/// would with the same request id (registration is idempotent on it): a database restart
/// costs the clerk nothing once the database answers.
pub async fn register(
    write: &WritePath,
    registrar: &Registrar,
    registration: Registration,
    registering: Authorized,
) -> Result<Registered, RegisterError> {
    let mut attempt = 1;
    loop {
        let outcome =
            register_once(write, registrar, registration.clone(), registering.clone()).await;
        match outcome {
            Err(RegisterError::Database(error))
                if database::is_dead_connection(&error)
                    && attempt < registrar.connection_attempts =>
            {
                tracing::warn!(attempt, error = %error, "a dead database connection; registering again");
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

async fn register_once(
    write: &WritePath,
    registrar: &Registrar,
    registration: Registration,
    registering: Authorized,
) -> Result<Registered, RegisterError> {
    if let Some(found) = find_request(&write.db, registration.request_id).await? {
        return answer_retry(found, &registration);
    }
    // Registered all the same (Art 19); the event tells routing and supervision it is not
    // to be accepted again (Art 36).
    let repeats_final =
        crate::finality::repeated_final_matter(&write.db, &registrar.keys, &registration.petition)
            .await?;
    let now = write.clock.now();
    // Read before the transaction: two near-identical petitions registered in the same
    // instant may miss each other, which a clerk's look at the case mends.
    let new = &registration.petition;
    let earlier = crate::related::earlier_petitions(
        &write.db,
        &registrar.keys,
        new,
        now,
        &registrar.matching,
    )
    .await?;
    let text = format!("{}{}", new.title, new.content);
    let identified = new
        .petitioner
        .as_ref()
        .is_some_and(|who| who.id_card.is_some() || who.phone.is_some());
    let related = matching::classify(
        NewText {
            text: &text,
            level: new.source_level,
            identified,
            repeats_final: repeats_final.is_some(),
        },
        now,
        &earlier,
        &registrar.matching,
    );
    let matter = related
        .collective_matter
        .as_ref()
        .or(related.repeat_of.as_ref())
        .map(|(root, _)| *root);
    let visit_batch = crate::related::visit_batch(&write.db, new, matter).await?;
    let proposed_link = crate::links::proposal(&write.db, new, &related).await?;
    let year = registration_year(now);
    let drawn = match registrar.numbers {
        NumberSource::Sequence => {
            Some(numbering::draw_from_sequence(&write.db, &registrar.region, year).await?)
        }
        NumberSource::InTransaction => None,
    };
    let change = RegisterPetition {
        registering,
        registrar: registrar.clone(),
        registration,
        drawn: drawn.clone(),
        year,
        repeats_final,
        related,
        visit_batch,
        proposed_link,
    };
    let request_id = change.registration.request_id;
    let fingerprint = change.registration.fingerprint.clone();
    let legacy_fingerprint = change.registration.legacy_fingerprint.clone();
    let registered = match write.execute_at(change, now).await {
        // Two concurrent calls with one request id: the other committed first.
        Err(RegisterError::Database(error))
            if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            match find_request(&write.db, request_id).await? {
                Some(found)
                    if found.0.request_fingerprint == fingerprint
                        || found.0.request_fingerprint == legacy_fingerprint =>
                {
                    Ok(Registered {
                        petition: found.0,
                        petitioner: found.1,
                        new: false,
                        query_code: None,
                    })
                }
                Some(_) => Err(RegisterError::RequestIdReused(request_id)),
                None => Err(RegisterError::Database(error)),
            }
        }
        other => other,
    };
    let Some(number) = drawn else {
        return registered;
    };
    match registered {
        Ok(registered) if registered.new => Ok(registered),
        Ok(retry) => {
            void(
                &write.db,
                &number,
                "the request was a retry of one registered meanwhile",
                now,
            )
            .await;
            Ok(retry)
        }
        Err(error) => {
            void(
                &write.db,
                &number,
                &format!("the registration failed: {error}"),
                now,
            )
            .await;
            Err(error)
        }
    }
}

/// Best effort: if the database cannot take the void row now, reconciliation records the
/// number later.
async fn void(db: &DatabaseConnection, number: &CaseNumber, reason: &str, now: OffsetDateTime) {
    if let Err(error) = numbering::void(db, number, reason, now).await {
        tracing::warn!(case = %number, error = %error, "void case number not recorded; reconciliation will");
    }
}

type Stored = (petition::Model, Option<petitioner::Model>);

async fn find_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Stored>, DbErr> {
    petition::Entity::find()
        .filter(petition::Column::RequestId.eq(request_id))
        .find_also_related(petitioner::Entity)
        .one(db)
        .await
}

fn answer_retry(
    (petition, petitioner): Stored,
    registration: &Registration,
) -> Result<Registered, RegisterError> {
    if petition.request_fingerprint != registration.fingerprint
        && petition.request_fingerprint != registration.legacy_fingerprint
    {
        return Err(RegisterError::RequestIdReused(registration.request_id));
    }
    Ok(Registered {
        petition,
        petitioner,
        new: false,
        query_code: None,
    })
}

struct RegisterPetition {
    registering: Authorized,
    registrar: Registrar,
    registration: Registration,
    /// Drawn before the transaction (PostgreSQL), or `None` to draw inside it (SQLite).
    drawn: Option<CaseNumber>,
    year: i32,
    /// The final case this petition's matter repeats (Art 36).
    repeats_final: Option<String>,
    related: Classification,
    /// For a visit of a collective matter: which batch (批次) of it.
    visit_batch: Option<u32>,
    /// For a petition a higher bureau sent down: the case it looks like.
    proposed_link: Option<Proposal>,
}

enum RegisterState {
    /// Another call with this request id committed first.
    Requested(Box<Stored>),
    New(CaseNumber),
}

impl Change for RegisterPetition {
    type State = RegisterState;
    type Outcome = Registered;
    type Error = RegisterError;

    async fn load(
        &self,
        transaction: &DatabaseTransaction,
    ) -> Result<RegisterState, RegisterError> {
        if let Some(found) = find_request(transaction, self.registration.request_id).await? {
            return Ok(RegisterState::Requested(Box::new(found)));
        }
        let number = match &self.drawn {
            Some(number) => number.clone(),
            None => {
                numbering::draw_in_transaction(transaction, &self.registrar.region, self.year)
                    .await?
            }
        };
        Ok(RegisterState::New(number))
    }

    fn decide(
        &self,
        state: RegisterState,
        now: OffsetDateTime,
    ) -> Result<Decided<Registered>, RegisterError> {
        let number = match state {
            RegisterState::Requested(found) => {
                return answer_retry(*found, &self.registration).map(Decided::quietly);
            }
            RegisterState::New(number) => number,
        };
        let new = &self.registration.petition;
        let case_id = Uuid::now_v7();
        let collective = new.people_count >= self.registrar.collective_threshold;
        let keys = &self.registrar.keys;
        let (query_code, query_code_hash) = query_code::issue(keys, case_id);
        let petition = petition::Model {
            case_id,
            case_number: number.to_string(),
            request_id: self.registration.request_id,
            request_fingerprint: self.registration.fingerprint.clone(),
            channel: new.channel.code().to_owned(),
            source_level: new.source_level.code().to_owned(),
            upstream_reference: new.upstream.as_ref().map(|u| u.reference.clone()),
            upstream_disposition: new
                .upstream
                .as_ref()
                .map(|u| u.disposition.code().to_owned()),
            upstream_deadline: new.upstream.as_ref().and_then(|u| u.deadline),
            received_at: wire::stored(new.received_at),
            registered_at: now,
            anonymous: new.is_anonymous(),
            // Parsing bounds the count far below i32::MAX.
            people_count: i32::try_from(new.people_count).unwrap_or(i32::MAX),
            collective,
            territory_code: new.territory.as_str().to_owned(),
            matter_category: new.matter_category.as_str().to_owned(),
            title: new.title.clone(),
            content: new.content.clone(),
            accused_unit_code: new
                .accused_unit
                .as_ref()
                .map(|code| code.as_str().to_owned()),
            query_code_hash: Some(query_code_hash),
            repeat_of_case_id: self.related.repeat_of.as_ref().map(|(id, _)| *id),
            repeat_of_case_number: self.related.repeat_of.as_ref().map(|(_, n)| n.clone()),
            skip_level: self.related.skip_level,
            first_time: self.related.first_time,
            collective_matter_case_id: self.related.collective_matter.as_ref().map(|(id, _)| *id),
            collective_matter_case_number: self
                .related
                .collective_matter
                .as_ref()
                .map(|(_, n)| n.clone()),
            registered_at_unit: self.registration.registering_unit.clone(),
            visit_batch: self
                .visit_batch
                .map(|batch| i32::try_from(batch).unwrap_or(i32::MAX)),
            // At most five, checked at parsing.
            representative_count: i32::try_from(new.representatives.len()).unwrap_or_default(),
            escalated_to: new.escalated_to.map(|marker| marker.code().to_owned()),
            proposed_case_id: self.proposed_link.as_ref().map(|p| p.case_id),
            proposed_case_number: self.proposed_link.as_ref().map(|p| p.case_number.clone()),
            proposal_reason: self
                .proposed_link
                .as_ref()
                .map(|p| p.reason.code().to_owned()),
            linked_to_case_id: None,
            linked_to_case_number: None,
            linked_at: None,
        };
        let petitioner = new.petitioner.as_ref().map(|identity| {
            let record = PetitionerRecord {
                name: identity.name.clone(),
                id_card_number: identity.id_card.as_ref().map(|id| id.as_str().to_owned()),
                phone: identity
                    .phone
                    .as_ref()
                    .map(|phone| phone.as_str().to_owned()),
                address: identity.address.clone(),
                representatives: new.representatives.clone(),
            };
            sealed_identity::seal_petitioner(keys, case_id, identity.kind.code(), &record)
        });
        let event = OutgoingEvent::new(
            subjects::PETITION_REGISTERED,
            SERVICE,
            case_id,
            now,
            &PetitionRegistered {
                repeats_final_case: self.repeats_final.clone().unwrap_or_default(),
                repeat_of_case_id: petition
                    .repeat_of_case_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                repeat_of_case_number: petition.repeat_of_case_number.clone().unwrap_or_default(),
                skip_level: petition.skip_level,
                first_time: petition.first_time,
                collective_matter_case_id: petition
                    .collective_matter_case_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                collective_matter_case_number: petition
                    .collective_matter_case_number
                    .clone()
                    .unwrap_or_default(),
                registered_at_unit: petition.registered_at_unit.clone().unwrap_or_default(),
                visit_batch: self.visit_batch.unwrap_or_default(),
                proposed_link: self
                    .proposed_link
                    .as_ref()
                    .map(|p| proto::UpstreamLinkProposal {
                        case_id: p.case_id.to_string(),
                        case_number: p.case_number.clone(),
                        reason: p.reason.to_proto().into(),
                    }),
                ..registered_event(case_id, &number, new, collective, now)
            },
        );
        Ok(Decided {
            outcome: Registered {
                petition,
                petitioner,
                new: true,
                query_code: Some(query_code),
            },
            events: vec![event],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        registered: &Registered,
    ) -> Result<(), RegisterError> {
        if !registered.new {
            return Ok(());
        }
        petition::Entity::insert(petition::ActiveModel::from(registered.petition.clone()))
            .exec_without_returning(transaction)
            .await?;
        // The second petition of a collective matter makes the first one's matter collective
        // too: the first case names itself.
        if let (Some(root), Some(number)) = (
            registered.petition.collective_matter_case_id,
            &registered.petition.collective_matter_case_number,
        ) {
            petition::Entity::update_many()
                .col_expr(
                    petition::Column::CollectiveMatterCaseId,
                    sea_orm::sea_query::Expr::value(root),
                )
                .col_expr(
                    petition::Column::CollectiveMatterCaseNumber,
                    sea_orm::sea_query::Expr::value(number.clone()),
                )
                .filter(petition::Column::CaseId.eq(root))
                .filter(petition::Column::CollectiveMatterCaseId.is_null())
                .exec(transaction)
                .await?;
        }
        if let Some(petitioner) = &registered.petitioner {
            petitioner::Entity::insert(petitioner::ActiveModel::from(petitioner.clone()))
                .exec_without_returning(transaction)
                .await?;
        }
        for (position, document) in self.registration.petition.attachments.iter().enumerate() {
            attachment::Entity::insert(attachment::ActiveModel {
                case_id: Set(registered.petition.case_id),
                position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
                name: Set(document.name.clone()),
                media_type: Set(document.media_type.clone()),
                size_bytes: Set(i64::try_from(document.size_bytes).unwrap_or(i64::MAX)),
                sha256: Set(document.sha256.clone()),
            })
            .exec_without_returning(transaction)
            .await?;
        }
        if let Some(person) = &self.registration.petition.accused_person {
            let record = AccusedRecord {
                name: person.name.clone(),
                position: person.position.clone(),
                unit_name: person.unit_name.clone(),
            };
            let sealed = sealed_identity::seal_accused(
                &self.registrar.keys,
                registered.petition.case_id,
                &record,
            );
            accused_person::Entity::insert(accused_person::ActiveModel::from(sealed))
                .exec_without_returning(transaction)
                .await?;
        }
        self.registering
            .audit_in(transaction, Some(registered.petition.case_id), "registered")
            .await?;
        Ok(())
    }
}

/// The event for a registered petition, built from the parsed petition: everything
/// routing, supervision and statistics need, and nothing that identifies the petitioner.
pub fn registered_event(
    case_id: Uuid,
    number: &CaseNumber,
    petition: &NewPetition,
    collective: bool,
    registered_at: OffsetDateTime,
) -> PetitionRegistered {
    PetitionRegistered {
        case_id: case_id.to_string(),
        case_number: number.to_string(),
        channel: petition.channel.to_proto().into(),
        source: Some(proto::PetitionSource {
            level: petition.source_level.to_proto().into(),
            upstream_reference: petition
                .upstream
                .as_ref()
                .map(|u| u.reference.clone())
                .unwrap_or_default(),
            disposition: petition
                .upstream
                .as_ref()
                .map(|u| u.disposition.to_proto().into())
                .unwrap_or_default(),
            upstream_deadline: petition
                .upstream
                .as_ref()
                .and_then(|u| u.deadline)
                .map(wire::calendar_date),
        }),
        received_at: Some(wire::timestamp(wire::stored(petition.received_at))),
        registered_at: Some(wire::timestamp(registered_at)),
        anonymous: petition.is_anonymous(),
        petitioner_kind: petition
            .petitioner
            .as_ref()
            .map(|p| p.kind.to_proto().into())
            .unwrap_or_default(),
        people_count: petition.people_count,
        collective,
        // At most five, checked at parsing.
        representative_count: u32::try_from(petition.representatives.len()).unwrap_or_default(),
        // Known only with the earlier petitions of the matter: set by registration.
        visit_batch: 0,
        escalated_to: petition
            .escalated_to
            .map(|marker| marker.to_proto().into())
            .unwrap_or_default(),
        territory_code: petition.territory.as_str().to_owned(),
        matter_category: petition.matter_category.as_str().to_owned(),
        accused_unit_code: petition
            .accused_unit
            .as_ref()
            .map(|code| code.as_str().to_owned())
            .unwrap_or_default(),
        // No written notice can reach a petitioner without a postal address (Art 23).
        address_unknown: petition
            .petitioner
            .as_ref()
            .is_some_and(|p| p.address.as_deref().is_none_or(|a| a.trim().is_empty())),
        // Set by registration from what it found in the database.
        repeats_final_case: String::new(),
        repeat_of_case_id: String::new(),
        repeat_of_case_number: String::new(),
        skip_level: false,
        first_time: false,
        collective_matter_case_id: String::new(),
        collective_matter_case_number: String::new(),
        registered_at_unit: String::new(),
        proposed_link: None,
    }
}
