//! The gRPC face of intake: decodes requests into domain values, calls registration or the
//! queries, and maps every error to a status code in one place.

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use time::OffsetDateTime;
use tonic::{Request, Response, Status};
use uuid::Uuid;
use xinfang_platform::auth::{Authorized, Found, Scope, unit_path_of, within_units};
use xinfang_platform::grpc::{self, FieldViolation, QueryError, invalid_argument};
use xinfang_platform::sealing::KeyRing;
use xinfang_platform::wire;
use xinfang_platform::write::WritePath;
use xinfang_proto::intake::v1::{
    self as api, get_petition_request::Key, intake_service_server::IntakeService,
};
use xinfang_proto::v1 as proto;

use crate::answer;
use crate::attachments;
use crate::case_number::{CaseNumber, registration_year};
use crate::corrections::{self, CorrectPetition, Corrected, Correction, CorrectionError};
use crate::desk;
use crate::links::{LinkError, LinkUpstream};
use crate::numbering;
use crate::register::{RegisterError, Registrar, Registration, register};
use crate::search;
use crate::store::{accused_person, petition, petition_correction, petition_scope, petitioner};
use crate::view;
use crate::{follow, reveal};

/// What registering can fail with beyond a query's errors, mapped to a status code by the
/// `From` below.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    #[error(transparent)]
    Register(#[from] RegisterError),
}

impl From<IntakeError> for Status {
    fn from(error: IntakeError) -> Self {
        match error {
            IntakeError::InvalidArgument(violations) => invalid_argument(&violations),
            IntakeError::Register(RegisterError::RequestIdReused(id)) => {
                Status::already_exists(format!(
                    "request_id {id} was already used for a different petition; use a new request_id"
                ))
            }
            IntakeError::Register(RegisterError::Database(error)) => database_status(&error),
        }
    }
}

/// Whatever the database said, the outcome is not certain (a commit whose connection died
/// may have stored the petition): the caller retries with the same request id, which
/// returns the petition if it was stored and registers it once if not.
fn database_status(error: &DbErr) -> Status {
    tracing::error!(error = %error, "database error");
    Status::unavailable("the petition could not be registered now; retry with the same request_id")
}

pub struct IntakeApi {
    pub write: WritePath,
    pub registrar: Registrar,
}

impl IntakeApi {
    /// Whether the caller may act on the case: within their units, and not recused from it
    /// (Art 28); a refusal is audited.
    async fn check_case(&self, authorized: &Authorized, case_id: Uuid) -> Result<(), Status> {
        let scope = petition_scope::Entity::find_by_id(case_id)
            .one(&self.write.db)
            .await
            .map_err(QueryError::from)?;
        let unit_path = scope.map(|scope| unit_path_of(&scope.unit_path));
        authorized.check_case(case_id, unit_path.as_deref()).await
    }

    /// A petition a clerk just changed (linked, corrected), answered as it now stands: the
    /// identities opened and masked, as GetPetition shows them.
    async fn as_it_stands(&self, row: &petition::Model) -> Result<proto::Petition, Status> {
        let petitioner = petitioner::Entity::find_by_id(row.case_id)
            .one(&self.write.db)
            .await
            .map_err(QueryError::from)?;
        let accused = accused_person::of_cases(&self.write.db, [row.case_id])
            .await
            .map_err(QueryError::from)?;
        Ok(view::stored_petition(
            &self.registrar.keys,
            row,
            petitioner.as_ref(),
            accused.get(&row.case_id),
        ))
    }
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
        let registration = parse_create(
            &request,
            self.write.clock.now(),
            &self.registrar.keys,
            &authorized,
        )?;
        let registered = register(
            &self.write,
            &self.registrar,
            registration,
            authorized.clone(),
        )
        .await
        .map_err(IntakeError::from)?;
        tracing::Span::current().record("case", registered.petition.case_number.as_str());
        let keys = &self.registrar.keys;
        let query_code = answer::query_code(&self.write, keys, &registered, &authorized)
            .await
            .map_err(|error| match error {
                answer::AnswerError::Register(error) => Status::from(IntakeError::from(error)),
                answer::AnswerError::Audit(status) => status,
            })?;
        // The petition is committed: what follows only completes the answer, and a dead
        // pooled connection here must not turn a registration into an error.
        let case_id = registered.petition.case_id;
        let accused = accused_person::of_cases(&self.write.db, [case_id])
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(error = %error, "the accused person is left out of the answer");
                Default::default()
            });
        let mut answer = view::stored_petition(
            keys,
            &registered.petition,
            registered.petitioner.as_ref(),
            accused.get(&case_id),
        );
        answer.query_code = query_code;
        answer.attachments = attachments::of_case(&self.write.db, case_id)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(error = %error, "the attachments are left out of the answer");
                Vec::new()
            });
        // A desk scoped to its units learns that other cases exist, not which.
        let numbers = authorized.scope == Scope::All;
        answer
            .notices
            .extend(answer::notices(&self.write, keys, &registered, numbers).await);
        if !numbers {
            view::withhold_other_cases(&mut answer);
        }
        Ok(Response::new(answer))
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
                let number = CaseNumber::parse(&number)
                    .map_err(|why| QueryError::from(FieldViolation::new("case_number", why)))?;
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
            .one(&self.write.db)
            .await
            .map_err(QueryError::from)?;
        let found = match found {
            Some((row, identity)) => {
                let scope = petition_scope::Entity::find_by_id(row.case_id)
                    .one(&self.write.db)
                    .await
                    .map_err(QueryError::from)?;
                Some(Found {
                    case_id: row.case_id,
                    unit_path: scope.map(|scope| unit_path_of(&scope.unit_path)),
                    value: (row, identity),
                })
            }
            None => None,
        };
        let (row, identity) = authorized
            .reveal(found, asked, || {
                QueryError::NotFound(format!("petition {shown_key} not found")).into()
            })
            .await?;
        let accused = accused_person::of_cases(&self.write.db, [row.case_id])
            .await
            .map_err(QueryError::from)?;
        let mut answer = view::stored_petition(
            &self.registrar.keys,
            &row,
            identity.as_ref(),
            accused.get(&row.case_id),
        );
        answer.attachments = attachments::of_case(&self.write.db, row.case_id)
            .await
            .map_err(QueryError::from)?;
        if authorized.scope == Scope::OwnUnits {
            view::withhold_other_cases(&mut answer);
        }
        Ok(Response::new(answer))
    }

    async fn list_petitions(
        &self,
        request: Request<api::ListPetitionsRequest>,
    ) -> Result<Response<api::ListPetitionsResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        let request = request.into_inner();
        let page_size = grpc::page_size(request.page_size).map_err(QueryError::from)?;
        let (filter, person_search) =
            search::condition(request.filter.as_ref(), &self.registrar.keys)
                .map_err(|violations| invalid_argument(&violations))?;
        let mut query = petition::Entity::find()
            .filter(filter)
            .order_by_asc(petition::Column::CaseId);
        if let Some(after) =
            grpc::parse_page_token::<Uuid>(&request.page_token).map_err(QueryError::from)?
        {
            query = query.filter(petition::Column::CaseId.gt(after));
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
        // Not a case the caller declared an interest in (Art 28), left out before the page
        // is cut so that no page or token reveals one.
        let recusals = authorized.recusals().await?;
        if !recusals.is_empty() {
            query = query.filter(recusals.case_exclusion(
                petition::Column::CaseId,
                petition_scope::Column::CaseId,
                petition_scope::Column::UnitPath,
            ));
        }
        // One extra row tells whether another page follows.
        let mut rows = query
            .find_also_related(petitioner::Entity)
            .limit(page_size + 1)
            .all(&self.write.db)
            .await
            .map_err(QueryError::from)?;
        let next_page_token =
            grpc::next_page(&mut rows, page_size, |(row, _)| row.case_id.to_string());
        // Whom a person search was for stays out of the audit too: only that it was one.
        let searched = if person_search {
            " found by petitioner"
        } else {
            ""
        };
        authorized
            .audit(
                None,
                true,
                &format!("listed {} case(s){searched}", rows.len()),
            )
            .await?;
        let accused =
            accused_person::of_cases(&self.write.db, rows.iter().map(|(row, _)| row.case_id))
                .await
                .map_err(QueryError::from)?;
        let keys = &self.registrar.keys;
        let petitions = rows
            .iter()
            .map(|(row, identity)| {
                let mut petition =
                    view::stored_petition(keys, row, identity.as_ref(), accused.get(&row.case_id));
                if authorized.scope == Scope::OwnUnits {
                    view::withhold_other_cases(&mut petition);
                }
                petition
            })
            .collect();
        Ok(Response::new(api::ListPetitionsResponse {
            petitions,
            next_page_token,
        }))
    }

    async fn reconcile_case_numbers(
        &self,
        request: Request<api::ReconcileCaseNumbersRequest>,
    ) -> Result<Response<api::CaseNumberLedger>, Status> {
        let authorized = Authorized::of(&request)?;
        let now = self.write.clock.now();
        let year = match request.into_inner().year {
            0 => registration_year(now),
            year @ 2000..=9999 => year,
            _ => {
                return Err(QueryError::from(FieldViolation::new(
                    "year",
                    "must be a year from 2000, or 0 for this year",
                ))
                .into());
            }
        };
        let ledger = numbering::reconcile(
            &self.write.db,
            self.registrar.numbers,
            &self.registrar.region,
            year,
            now,
        )
        .await
        .map_err(QueryError::from)?;
        authorized
            .audit(None, true, &format!("reconciled case numbers of {year}"))
            .await?;
        Ok(Response::new(api::CaseNumberLedger {
            region_code: ledger.region.as_str().to_owned(),
            year,
            highest_drawn: ledger.highest_drawn,
            registered: ledger.registered,
            balanced: ledger.balances(),
            voided: ledger
                .voided
                .into_iter()
                .map(|void| api::VoidCaseNumber {
                    case_number: void.case_number,
                    reason: void.reason,
                    voided_at: Some(wire::timestamp(void.voided_at)),
                })
                .collect(),
            pending: ledger.pending,
        }))
    }

    async fn reveal_petitioner(
        &self,
        request: Request<api::RevealPetitionerRequest>,
    ) -> Result<Response<proto::PetitionerIdentity>, Status> {
        let authorized = Authorized::of(&request)?;
        let request = request.into_inner();
        let (case_id, reason) =
            reveal_request(&authorized, &request.case_id, &request.reason).await?;
        let identity = reveal::reveal(
            &self.write.db,
            &self.registrar.keys,
            &authorized,
            case_id,
            &reason,
        )
        .await?;
        Ok(Response::new(identity))
    }

    async fn reveal_representatives(
        &self,
        request: Request<api::RevealRepresentativesRequest>,
    ) -> Result<Response<api::RevealRepresentativesResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        let request = request.into_inner();
        let (case_id, reason) =
            reveal_request(&authorized, &request.case_id, &request.reason).await?;
        let representatives = reveal::reveal_representatives(
            &self.write.db,
            &self.registrar.keys,
            &authorized,
            case_id,
            &reason,
        )
        .await?;
        Ok(Response::new(api::RevealRepresentativesResponse {
            representatives,
        }))
    }

    async fn follow_petition(
        &self,
        request: Request<api::FollowPetitionRequest>,
    ) -> Result<Response<api::FollowedPetition>, Status> {
        let authorized = Authorized::of(&request)?;
        let followed = follow::follow(
            &self.write.db,
            &self.registrar.keys,
            &authorized,
            request.get_ref(),
        )
        .await?;
        Ok(Response::new(followed))
    }

    async fn link_upstream(
        &self,
        request: Request<api::LinkUpstreamRequest>,
    ) -> Result<Response<proto::Petition>, Status> {
        let authorized = Authorized::of(&request)?;
        let request = request.get_ref();
        let mut violations = Vec::new();
        let mut uuid = |field: &str, text: &str| {
            Uuid::parse_str(text)
                .map_err(|_| violations.push(FieldViolation::new(field, "must be a UUID")))
                .ok()
        };
        let case_id = uuid("case_id", &request.case_id);
        let into_case_id = uuid("into_case_id", &request.into_case_id);
        let reason = reveal::parse_reason(&request.reason).ok();
        if reason.is_none() {
            violations.push(FieldViolation::new(
                "reason",
                "say why it is the same matter, in at most 500 characters",
            ));
        }
        let (Some(case_id), Some(into_case_id), Some(reason)) = (case_id, into_case_id, reason)
        else {
            return Err(invalid_argument(&violations));
        };
        for case in [case_id, into_case_id] {
            self.check_case(&authorized, case).await?;
        }
        let outcome = self
            .write
            .execute(LinkUpstream {
                authorized: authorized.clone(),
                case_id,
                into_case_id,
                reason,
            })
            .await;
        let (linked, _) = match outcome {
            Ok(linked) => linked,
            Err(LinkError::Database(error)) => {
                tracing::error!(error = %error, "database error");
                return Err(Status::unavailable(
                    "the link could not be recorded now; retry",
                ));
            }
            Err(refusal) => {
                let status = match refusal {
                    LinkError::NotFound(id) => {
                        Status::not_found(format!("no petition with case id {id}"))
                    }
                    other => Status::failed_precondition(other.to_string()),
                };
                // A refused link is on the record too, with why.
                authorized
                    .audit(
                        Some(case_id),
                        false,
                        &format!("link refused: {}", status.message()),
                    )
                    .await?;
                return Err(status);
            }
        };
        Ok(Response::new(self.as_it_stands(&linked).await?))
    }

    async fn correct_petition(
        &self,
        request: Request<api::CorrectPetitionRequest>,
    ) -> Result<Response<proto::Petition>, Status> {
        let authorized = Authorized::of(&request)?;
        let correction = Correction::parse(request.get_ref(), &self.registrar.keys)
            .map_err(|violations| invalid_argument(&violations))?;
        self.check_case(&authorized, correction.case_id).await?;
        let case_id = correction.case_id;
        let outcome = self
            .write
            .execute(CorrectPetition {
                authorized: authorized.clone(),
                correction,
            })
            .await;
        let corrected = match outcome {
            Ok(corrected) => corrected,
            Err(CorrectionError::Database(error)) => {
                tracing::error!(error = %error, "database error");
                return Err(Status::unavailable(
                    "the correction could not be recorded now; retry with the same request_id",
                ));
            }
            Err(refusal) => {
                let status = match refusal {
                    CorrectionError::InvalidArgument(violations) => invalid_argument(&violations),
                    CorrectionError::NotFound(id) => {
                        Status::not_found(format!("no petition with case id {id}"))
                    }
                    other => Status::already_exists(format!("{other}; use a new request_id")),
                };
                // A refused correction is on the record too, with why.
                authorized
                    .audit(
                        Some(case_id),
                        false,
                        &format!("correction refused: {}", status.message()),
                    )
                    .await?;
                return Err(status);
            }
        };
        let row = match corrected {
            Corrected::Done { petition, .. } | Corrected::Repeat(petition) => *petition,
        };
        Ok(Response::new(self.as_it_stands(&row).await?))
    }

    async fn list_corrections(
        &self,
        request: Request<api::ListCorrectionsRequest>,
    ) -> Result<Response<api::ListCorrectionsResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        let case_id = parse_uuid("case_id", &request.get_ref().case_id)?;
        self.check_case(&authorized, case_id).await?;
        if petition::Entity::find_by_id(case_id)
            .one(&self.write.db)
            .await
            .map_err(QueryError::from)?
            .is_none()
        {
            return Err(Status::not_found(format!(
                "no petition with case id {case_id}"
            )));
        }
        let rows = petition_correction::Entity::find()
            .filter(petition_correction::Column::CaseId.eq(case_id))
            .order_by_asc(petition_correction::Column::Revision)
            .all(&self.write.db)
            .await
            .map_err(QueryError::from)?;
        authorized
            .audit(
                Some(case_id),
                true,
                &format!("listed {} correction(s)", rows.len()),
            )
            .await?;
        Ok(Response::new(api::ListCorrectionsResponse {
            corrections: rows.iter().map(corrections::view).collect(),
        }))
    }

    async fn reissue_query_code(
        &self,
        request: Request<api::ReissueQueryCodeRequest>,
    ) -> Result<Response<api::ReissueQueryCodeResponse>, Status> {
        let authorized = Authorized::of(&request)?;
        let case_id = parse_uuid("case_id", &request.get_ref().case_id)?;
        let reason = reveal::parse_reason(&request.get_ref().reason)?;
        let answer = follow::reissue(
            &self.write.db,
            &self.registrar.keys,
            &authorized,
            case_id,
            &reason,
        )
        .await?;
        Ok(Response::new(answer))
    }
}

fn parse_create(
    request: &api::CreatePetitionRequest,
    now: OffsetDateTime,
    keys: &KeyRing,
    authorized: &Authorized,
) -> Result<Registration, IntakeError> {
    let desk = desk::registering_unit(authorized, &request.registering_unit);
    Registration::parse(
        &request.request_id,
        request.petition.as_ref(),
        desk,
        now,
        keys,
    )
    .map_err(IntakeError::InvalidArgument)
}

/// A reveal's case and reason; every ask is audited, a malformed one too.
async fn reveal_request(
    authorized: &Authorized,
    case_id: &str,
    reason: &str,
) -> Result<(Uuid, String), Status> {
    let parsed = parse_uuid("case_id", case_id)
        .map_err(Status::from)
        .and_then(|case_id| Ok((case_id, reveal::parse_reason(reason)?)));
    match parsed {
        Ok(parsed) => Ok(parsed),
        Err(status) => {
            let case = Uuid::parse_str(case_id).ok();
            authorized
                .audit(case, false, "reveal refused: no case id or no reason given")
                .await?;
            Err(status)
        }
    }
}

fn parse_uuid(field: &str, text: &str) -> Result<Uuid, QueryError> {
    Uuid::parse_str(text).map_err(|_| FieldViolation::new(field, "must be a UUID").into())
}

#[cfg(test)]
mod tests {
    use sea_orm::RuntimeErr;

    use super::*;

    #[test]
    fn any_database_failure_is_unavailable_so_the_clerk_retries_with_the_same_request_id() {
        // A commit whose connection died may have stored the petition: the caller cannot
        // be told "not stored" (INTERNAL) and re-enter it under a new request id.
        for error in [
            DbErr::Exec(RuntimeErr::Internal(
                "connection reset during COMMIT".into(),
            )),
            DbErr::Conn(RuntimeErr::Internal("connection refused".into())),
            DbErr::Custom("anything else".into()),
        ] {
            let status = Status::from(IntakeError::Register(RegisterError::Database(error)));
            assert_eq!(status.code(), tonic::Code::Unavailable);
            assert!(status.message().contains("same request_id"), "{status:?}");
        }
    }
}
