//! The gRPC face of intake: decodes requests into domain values, calls registration or the
//! queries, and maps every error to a status code in one place.

use prost::Message;
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tonic::{Request, Response, Status};
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, Found, Scope, unit_path_of, within_units};
use xinfang_platform::grpc::{self, FieldViolation, invalid_argument};
use xinfang_platform::outbox::OutboxHandle;
use xinfang_proto::intake::v1::{
    self as api, get_petition_request::Key, intake_service_server::IntakeService,
};
use xinfang_proto::v1 as proto;

use crate::case_number::CaseNumber;
use crate::petition::NewPetition;
use crate::register::{RegisterError, Registrar, Registration, register};
use crate::store::{petition, petition_scope, petitioner};
use crate::view;

/// Everything a call can fail with, mapped to a status code by the `From` below.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("petition {0} not found")]
    NotFound(String),
    #[error(transparent)]
    Register(#[from] RegisterError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl From<IntakeError> for Status {
    fn from(error: IntakeError) -> Self {
        match error {
            IntakeError::InvalidArgument(violations) => invalid_argument(&violations),
            IntakeError::NotFound(key) => Status::not_found(format!("petition {key} not found")),
            IntakeError::Register(RegisterError::RequestIdReused(id)) => {
                Status::already_exists(format!(
                    "request_id {id} was already used for a different petition; use a new request_id"
                ))
            }
            IntakeError::Register(RegisterError::Database(error))
            | IntakeError::Database(error) => database_status(&error),
        }
    }
}

/// A lost connection is worth retrying (CreatePetition is idempotent); anything else is a
/// fault of ours.
fn database_status(error: &DbErr) -> Status {
    tracing::error!(error = %error, "database error");
    match error {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => {
            Status::unavailable("the database is unavailable; retry with the same request_id")
        }
        _ => Status::internal("the petition could not be stored"),
    }
}

pub struct IntakeApi {
    pub db: DatabaseConnection,
    pub registrar: Registrar,
    pub outbox: OutboxHandle,
}

#[tonic::async_trait]
impl IntakeService for IntakeApi {
    #[tracing::instrument(skip_all, fields(case))]
    async fn create_petition(
        &self,
        request: Request<api::CreatePetitionRequest>,
    ) -> Result<Response<proto::Petition>, Status> {
        let authorized = Authorized::of(&request)?;
        let request = request.into_inner();
        let now = OffsetDateTime::now_utc();
        let registration = parse_create(&request, now)?;
        let registered = register(&self.db, &self.registrar, registration, now)
            .await
            .map_err(IntakeError::from)?;
        tracing::Span::current().record("case", registered.petition.case_number.as_str());
        authorized
            .audit(Some(registered.petition.case_id), true, "registered")
            .await?;
        if !registered.events.is_empty() {
            tracing::info!("petition registered");
            self.outbox.committed(registered.events);
        }
        Ok(Response::new(view::petition(
            &registered.petition,
            registered.petitioner.as_ref(),
        )))
    }

    async fn get_petition(
        &self,
        request: Request<api::GetPetitionRequest>,
    ) -> Result<Response<proto::Petition>, Status> {
        let authorized = Authorized::of(&request)?;
        let mut asked = None;
        let (filter, shown_key) = match request.into_inner().key {
            Some(Key::CaseId(id)) => {
                let id = parse_uuid("case_id", &id)?;
                asked = Some(id);
                (
                    petition::Column::CaseId.eq(id),
                    format!("with case id {id}"),
                )
            }
            Some(Key::CaseNumber(number)) => {
                let number = CaseNumber::parse(&number).map_err(|why| {
                    IntakeError::InvalidArgument(vec![FieldViolation::new("case_number", why)])
                })?;
                (
                    petition::Column::CaseNumber.eq(number.to_string()),
                    number.to_string(),
                )
            }
            None => {
                return Err(invalid_argument(&[FieldViolation::new(
                    "key",
                    "give case_id or case_number",
                )]));
            }
        };
        let found = petition::Entity::find()
            .filter(filter)
            .find_also_related(petitioner::Entity)
            .one(&self.db)
            .await
            .map_err(IntakeError::from)?;
        let found = match found {
            Some((row, identity)) => {
                let scope = petition_scope::Entity::find_by_id(row.case_id)
                    .one(&self.db)
                    .await
                    .map_err(IntakeError::from)?;
                Some(Found {
                    case_id: row.case_id,
                    unit_path: scope.map(|scope| unit_path_of(&scope.unit_path)),
                    value: (row, identity),
                })
            }
            None => None,
        };
        let (row, identity) = authorized
            .reveal(found, asked, || IntakeError::NotFound(shown_key).into())
            .await?;
        Ok(Response::new(view::petition(&row, identity.as_ref())))
    }

    async fn list_petitions(
        &self,
        request: Request<api::ListPetitionsRequest>,
    ) -> Result<Response<api::ListPetitionsResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        let request = request.into_inner();
        let page_size = grpc::page_size(request.page_size)
            .map_err(|violation| IntakeError::InvalidArgument(vec![violation]))?;
        let mut query = petition::Entity::find().order_by_asc(petition::Column::CaseId);
        if !request.page_token.is_empty() {
            query = query.filter(
                petition::Column::CaseId.gt(parse_uuid("page_token", &request.page_token)?),
            );
        }
        if authorized.scope == Scope::OwnUnits {
            let own = Query::select()
                .column(petition_scope::Column::CaseId)
                .from(petition_scope::Entity)
                .cond_where(within_units(
                    petition_scope::Column::UnitPath,
                    &authorized.caller.units,
                ))
                .to_owned();
            query = query.filter(petition::Column::CaseId.in_subquery(own));
        }
        // One extra row tells whether another page follows.
        let mut rows = query
            .find_also_related(petitioner::Entity)
            .limit(page_size + 1)
            .all(&self.db)
            .await
            .map_err(IntakeError::from)?;
        let next_page_token = if rows.len() as u64 > page_size {
            rows.truncate(page_size as usize);
            rows.last()
                .map(|(row, _)| row.case_id.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        authorized
            .audit(None, true, &format!("listed {} case(s)", rows.len()))
            .await?;
        let petitions = rows
            .iter()
            .map(|(row, identity)| view::petition(row, identity.as_ref()))
            .collect();
        Ok(Response::new(api::ListPetitionsResponse {
            petitions,
            next_page_token,
        }))
    }
}

fn parse_create(
    request: &api::CreatePetitionRequest,
    now: OffsetDateTime,
) -> Result<Registration, IntakeError> {
    let request_id = Uuid::parse_str(&request.request_id)
        .map_err(|_| FieldViolation::new("request_id", "must be a UUID chosen once per petition"));
    let petition = NewPetition::parse(request.petition.as_ref(), now);
    match (request_id, petition) {
        (Ok(request_id), Ok(petition)) => Ok(Registration {
            request_id,
            fingerprint: fingerprint(request.petition.as_ref()),
            petition,
        }),
        (request_id, petition) => {
            let mut violations: Vec<FieldViolation> = request_id.err().into_iter().collect();
            violations.extend(petition.err().unwrap_or_default());
            Err(IntakeError::InvalidArgument(violations))
        }
    }
}

fn fingerprint(petition: Option<&proto::Petition>) -> Vec<u8> {
    let encoded = petition.map(Message::encode_to_vec).unwrap_or_default();
    Sha256::digest(encoded).to_vec()
}

fn parse_uuid(field: &str, text: &str) -> Result<Uuid, IntakeError> {
    Uuid::parse_str(text).map_err(|_| {
        IntakeError::InvalidArgument(vec![FieldViolation::new(field, "must be a UUID")])
    })
}
