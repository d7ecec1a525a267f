//! Who is calling and what they may do, on every gRPC call of every service.
//!
//! - [`token`]: the bearer token (a JWT) is verified against configured keys — a static
//!   HS256 secret (`make run`), a PEM public key, or a city identity provider's JWKS — with
//!   issuer, audience and expiry checked; the claims become a [`Caller`].
//! - [`policy`]: one table, declared once, of which role may call which RPC and over which
//!   cases (all, or those of its own units).
//! - [`layer`]: the tower layer in front of every handler: public health and reflection
//!   pass; anything else without a valid token is UNAUTHENTICATED; a role the table does not
//!   allow is PERMISSION_DENIED before the handler runs (and audited).
//! - [`audit`]: the acting service's append-only audit table; handlers record every
//!   decision that touches a case through [`Authorized::audit`].

pub mod audit;
pub mod layer;
pub mod policy;
pub mod seal;
pub mod token;

use std::fmt;

use tonic::Status;

pub use audit::AuditLog;
pub use layer::AuthLayer;
pub use policy::{Role, Scope};
pub use token::{Claims, TokenVerifier};

use crate::recusal::Recusals;

/// The verified caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`: a person's account, or a service's name.
    pub subject: String,
    pub roles: Vec<Role>,
    /// The units a unit handler acts for (`units` claim); empty for bureau-wide roles.
    pub units: Vec<String>,
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.subject)
    }
}

/// What the layer established for a request that may proceed: who, which RPC, and over
/// which cases. Handlers read it from the request's extensions.
#[derive(Debug, Clone)]
pub struct Authorized {
    pub caller: Caller,
    /// The RPC's full name, e.g. `xinfang.intake.v1.IntakeService/GetPetition`.
    pub rpc: String,
    pub scope: Scope,
    audit: AuditLog,
}

impl Authorized {
    /// Takes the authorisation the layer attached; its absence means the layer was not in
    /// front of this handler, so the call is refused rather than served unchecked.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Self, Status> {
        request
            .extensions()
            .get::<Authorized>()
            .cloned()
            .ok_or_else(|| Status::internal("the call was not authorised"))
    }

    /// An actor that does not come through the gRPC layer (an external system submitting
    /// over NATS, known by the NATS user its subject names): audited as a caller is.
    pub fn acting(
        caller: Caller,
        action: impl Into<String>,
        scope: Scope,
        audit: AuditLog,
    ) -> Self {
        Self {
            caller,
            rpc: action.into(),
            scope,
            audit,
        }
    }

    /// Whether the caller may see a case whose responsible unit has this path (the unit
    /// and the units above it in the organisation tree). A case not routed yet has no path:
    /// only bureau-wide roles see it.
    pub fn may_see(&self, unit_path: Option<&[String]>) -> bool {
        match self.scope {
            Scope::All => true,
            Scope::OwnUnits => unit_path.is_some_and(|path| {
                path.iter()
                    .any(|unit| self.caller.units.iter().any(|own| own == unit))
            }),
        }
    }

    /// Records a decision on a case (or on a list, `case: None`) in the audit table.
    /// An audit that cannot be written refuses the call: nothing is read unrecorded.
    pub async fn audit(
        &self,
        case: Option<uuid::Uuid>,
        allowed: bool,
        note: &str,
    ) -> Result<(), Status> {
        self.audit
            .record(&self.caller, &self.rpc, case, allowed, note)
            .await
            .map_err(|error| {
                tracing::error!(error = %error, "audit entry not written");
                Status::unavailable("the audit log is unavailable; retry")
            })
    }

    /// Decides on the one case a handler looked up, with the rule every service follows:
    /// scope before existence. The caller gets the case if it may see it (audited as read);
    /// a bureau-wide caller asking for a case that is not there gets `not_found`; anyone
    /// else gets PERMISSION_DENIED, the same whether the case exists or not.
    pub async fn reveal<T>(
        &self,
        found: Option<Found<T>>,
        asked: Option<uuid::Uuid>,
        not_found: impl FnOnce() -> Status,
    ) -> Result<T, Status> {
        match found {
            Some(found) if self.may_see(found.unit_path.as_deref()) => {
                self.check_interest(found.case_id, found.unit_path.as_deref())
                    .await?;
                self.audit(Some(found.case_id), true, "read").await?;
                Ok(found.value)
            }
            Some(found) => Err(self.deny(Some(found.case_id)).await),
            None if self.scope == Scope::All => {
                self.audit(asked, true, "not found").await?;
                Err(not_found())
            }
            None => Err(self.deny(asked).await),
        }
    }

    /// The interests the caller declared (Art 28): a list leaves those cases out.
    pub async fn recusals(&self) -> Result<Recusals, Status> {
        Recusals::of(self.audit.db(), &self.caller.subject)
            .await
            .map_err(|error| {
                tracing::error!(error = %error, "read the declared interests");
                Status::unavailable("the declared interests cannot be read now; retry")
            })
    }

    /// Whether the caller may read or act on the case: within its scope and not one it
    /// declared an interest in; each refusal audited. For a handler that found the case
    /// itself (an action, a letter), as [`Self::reveal`] does for a read.
    pub async fn check_case(
        &self,
        case_id: uuid::Uuid,
        unit_path: Option<&[String]>,
    ) -> Result<(), Status> {
        if !self.may_see(unit_path) {
            return Err(self.deny(Some(case_id)).await);
        }
        self.check_interest(case_id, unit_path).await
    }

    /// Refuses, audited, a case the caller declared an interest in (回避, Art 28).
    async fn check_interest(
        &self,
        case_id: uuid::Uuid,
        unit_path: Option<&[String]>,
    ) -> Result<(), Status> {
        if !self.recusals().await?.excludes(case_id, unit_path) {
            return Ok(());
        }
        self.audit(Some(case_id), false, "declared an interest (Art 28)")
            .await?;
        Err(Status::permission_denied(format!(
            "{} has declared an interest in this case (回避, Art 28): it is not theirs to handle or read",
            self.caller
        )))
    }

    /// Records the decision inside the caller's transaction, so that the change it audits
    /// and its audit row commit together or not at all.
    pub async fn audit_in<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        case: Option<uuid::Uuid>,
        note: &str,
    ) -> Result<(), sea_orm::DbErr> {
        AuditLog::record_in(db, &self.caller, &self.rpc, case, true, note).await
    }

    /// Audits and refuses: the same answer whether the case exists or not, so a caller
    /// learns nothing of cases outside its scope.
    pub async fn deny(&self, case: Option<uuid::Uuid>) -> Status {
        if let Err(status) = self.audit(case, false, "outside the caller's units").await {
            return status;
        }
        Status::permission_denied(format!(
            "{} may not see this case: it is not routed to one of the caller's units",
            self.caller
        ))
    }
}

/// A case a handler found: its id, where it was routed (none before routing), the value.
pub struct Found<T> {
    pub case_id: uuid::Uuid,
    pub unit_path: Option<Vec<String>>,
    pub value: T,
}

/// Joins a unit path for storage (`/xfj/zhaocun/`), so a unit can be found in it with one
/// `LIKE '%/<unit>/%'`; unit codes never contain `/`.
pub fn stored_unit_path(path: &[String]) -> String {
    if path.is_empty() {
        return String::new();
    }
    format!("/{}/", path.join("/"))
}

/// The part of a case's unit path that leads to its lead unit (`unit_code`): the units that
/// act on the case. A case's path is the lead unit's path, top first, then the co-handling
/// units (协办) not already on it, who read the case but do not act for the lead.
pub fn lead_path<'a>(path: &'a [String], unit_code: &str) -> &'a [String] {
    match path.iter().position(|unit| unit == unit_code) {
        Some(at) => &path[..=at],
        None => path,
    }
}

/// The inverse of [`stored_unit_path`].
pub fn unit_path_of(stored: &str) -> Vec<String> {
    stored
        .split('/')
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The rows whose stored unit path (`column`) contains one of `units`: a list call's
/// filter for a caller scoped to its own units. No units, no rows: an empty `any` condition
/// is false (the end-to-end access tests hold it to that).
pub fn within_units<C: sea_orm::ColumnTrait>(column: C, units: &[String]) -> sea_orm::Condition {
    units.iter().fold(sea_orm::Condition::any(), |any, unit| {
        any.add(column.like(format!("%/{unit}/%")))
    })
}

/// Attaches `authorization: Bearer <token>` to every call of a client: the CLI's, the
/// tests', and a service calling another with its own identity.
#[derive(Clone)]
pub struct BearerToken(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl BearerToken {
    pub fn new(token: &str) -> Result<Self, tonic::metadata::errors::InvalidMetadataValue> {
        format!("Bearer {}", token.trim()).parse().map(Self)
    }
}

impl tonic::service::Interceptor for BearerToken {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}
