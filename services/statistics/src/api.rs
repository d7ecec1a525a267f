//! The gRPC face of statistics: requests checked here, figures read in `query`.

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use xinfang_platform::auth::{Authorized, Scope};
use xinfang_platform::grpc::{FieldViolation, QueryError, invalid_argument};
use xinfang_platform::wire;
use xinfang_platform::write::Clock;
use xinfang_proto::statistics::v1::{self as api, statistics_service_server::StatisticsService};
use xinfang_proto::vocabulary::{Channel, LegalTrack, SourceLevel};

use crate::figures::Filter;
use crate::formula::formula;
use crate::overview::consistent_overview;
use crate::period::Period;
use crate::query::{Asked, read_figures, read_work_figures};

pub struct StatisticsApi {
    pub db: DatabaseConnection,
    pub clock: Clock,
    /// The formula version a request that names none gets.
    pub formula_version: String,
}

/// A code a filter names: at most 64 characters, no control characters; empty for any.
fn code(field: &str, value: &str, violations: &mut Vec<FieldViolation>) -> Option<String> {
    let value = value.trim();
    if value.chars().count() > 64 || value.chars().any(char::is_control) {
        violations.push(FieldViolation::new(
            field,
            "is a code of at most 64 characters",
        ));
    }
    (!value.is_empty()).then(|| value.to_owned())
}

/// An enum filter: unspecified for any.
fn chosen<T>(
    field: &str,
    value: i32,
    from_proto: fn(i32) -> Result<T, &'static str>,
    violations: &mut Vec<FieldViolation>,
) -> Option<T> {
    if value == 0 {
        return None;
    }
    from_proto(value)
        .map_err(|why| violations.push(FieldViolation::new(field, why)))
        .ok()
}

fn period(text: &str, violations: &mut Vec<FieldViolation>) -> Option<Period> {
    Period::parse(text)
        .map_err(|why| violations.push(FieldViolation::new("period", why.to_string())))
        .ok()
}

fn as_of(
    at: Option<&prost_types::Timestamp>,
    violations: &mut Vec<FieldViolation>,
) -> Option<time::OffsetDateTime> {
    at?;
    wire::from_timestamp(at)
        .map_err(|why| violations.push(FieldViolation::new("as_of", why)))
        .ok()
}

impl StatisticsApi {
    fn asked(
        &self,
        request: &api::GetFiguresRequest,
        authorized: &Authorized,
    ) -> Result<Asked, Status> {
        let mut violations = Vec::new();
        let period = period(&request.period, &mut violations);
        let version = if request.formula_version.is_empty() {
            self.formula_version.as_str()
        } else {
            request.formula_version.as_str()
        };
        let formula = formula(version)
            .map_err(|why| violations.push(FieldViolation::new("formula_version", why.to_string())))
            .ok();
        let filter = Filter {
            source: chosen(
                "source",
                request.source,
                SourceLevel::from_proto,
                &mut violations,
            ),
            channel: chosen(
                "channel",
                request.channel,
                Channel::from_proto,
                &mut violations,
            ),
            unit: code("unit_code", &request.unit_code, &mut violations),
            matter_category: code("matter_category", &request.matter_category, &mut violations),
            territory_code: code("territory_code", &request.territory_code, &mut violations),
            track: chosen(
                "track",
                request.track,
                LegalTrack::from_proto,
                &mut violations,
            ),
            // A unit handler reads its own units' figures, whatever it asks.
            scope: (authorized.scope == Scope::OwnUnits).then(|| authorized.caller.units.clone()),
        };
        let as_of = as_of(request.as_of.as_ref(), &mut violations);
        match (period, formula) {
            (Some(period), Some(formula)) if violations.is_empty() => Ok(Asked {
                period,
                filter,
                as_of,
                formula,
            }),
            _ => Err(invalid_argument(&violations)),
        }
    }
}

#[tonic::async_trait]
impl StatisticsService for StatisticsApi {
    async fn get_overview(
        &self,
        _request: Request<api::GetOverviewRequest>,
    ) -> Result<Response<api::Overview>, Status> {
        consistent_overview(&self.db, self.clock.now())
            .await
            .map(Response::new)
            .map_err(|error| QueryError::from(error).into())
    }

    async fn get_figures(
        &self,
        request: Request<api::GetFiguresRequest>,
    ) -> Result<Response<api::Figures>, Status> {
        let authorized = Authorized::of(&request)?;
        let asked = self.asked(request.get_ref(), &authorized)?;
        read_figures(&self.db, &asked, self.clock.now())
            .await
            .map(Response::new)
            .map_err(|error| QueryError::from(error).into())
    }

    async fn get_work_figures(
        &self,
        request: Request<api::GetWorkFiguresRequest>,
    ) -> Result<Response<api::WorkFigures>, Status> {
        let request = request.into_inner();
        let mut violations = Vec::new();
        let period = period(&request.period, &mut violations);
        let as_of = as_of(request.as_of.as_ref(), &mut violations);
        let Some(period) = period.filter(|_| violations.is_empty()) else {
            return Err(invalid_argument(&violations));
        };
        read_work_figures(&self.db, &period, as_of, self.clock.now())
            .await
            .map(Response::new)
            .map_err(|error| QueryError::from(error).into())
    }
}
