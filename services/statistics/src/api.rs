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
use crate::query::{Asked, read_figures, read_report_inputs, read_work_figures};
use crate::render;
use crate::report::{Kind, write};

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

/// A moment that has come: the figures of tomorrow are not known yet.
fn as_of(
    at: Option<&prost_types::Timestamp>,
    now: time::OffsetDateTime,
    violations: &mut Vec<FieldViolation>,
) -> Option<time::OffsetDateTime> {
    at?;
    match wire::from_timestamp(at) {
        Ok(at) if at > now => {
            violations.push(FieldViolation::new("as_of", "is in the future"));
            None
        }
        Ok(at) => Some(at),
        Err(why) => {
            violations.push(FieldViolation::new("as_of", why));
            None
        }
    }
}

impl StatisticsApi {
    fn asked(
        &self,
        request: &api::GetFiguresRequest,
        authorized: &Authorized,
    ) -> Result<Asked, Status> {
        self.asked_with(request, authorized, Vec::new())
    }

    /// `violations`: what the caller already found wrong with the rest of its request.
    fn asked_with(
        &self,
        request: &api::GetFiguresRequest,
        authorized: &Authorized,
        mut violations: Vec<FieldViolation>,
    ) -> Result<Asked, Status> {
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
        let as_of = as_of(request.as_of.as_ref(), self.clock.now(), &mut violations);
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

    async fn get_report(
        &self,
        request: Request<api::GetReportRequest>,
    ) -> Result<Response<api::Report>, Status> {
        let authorized = Authorized::of(&request)?;
        let request = request.into_inner();
        let mut violations = Vec::new();
        let kind = match api::ReportKind::try_from(request.kind) {
            Ok(api::ReportKind::WeeklyBrief) => Some(Kind::WeeklyBrief),
            Ok(api::ReportKind::HalfYearSummary) => Some(Kind::HalfYearSummary),
            Ok(api::ReportKind::Annual) => Some(Kind::Annual),
            _ => {
                violations.push(FieldViolation::new(
                    "kind",
                    "is required: WEEKLY_BRIEF, HALF_YEAR_SUMMARY or ANNUAL",
                ));
                None
            }
        };
        let format = api::ReportFormat::try_from(request.format)
            .ok()
            .filter(|format| *format != api::ReportFormat::Unspecified);
        if format.is_none() {
            violations.push(FieldViolation::new(
                "format",
                "is required: MARKDOWN, CSV or DOCX",
            ));
        }
        let figures_request = api::GetFiguresRequest {
            period: request.period,
            as_of: request.as_of,
            formula_version: request.formula_version,
            ..api::GetFiguresRequest::default()
        };
        let asked = self.asked_with(&figures_request, &authorized, violations)?;
        let (Some(kind), Some(format)) = (kind, format) else {
            return Err(Status::internal(
                "a checked request lost its kind or format",
            ));
        };
        let inputs = read_report_inputs(&self.db, kind, &asked, self.clock.now())
            .await
            .map_err(QueryError::from)?;
        let report = write(&inputs);
        let files = match format {
            api::ReportFormat::Csv => vec![render::csv(&report)],
            api::ReportFormat::Docx => vec![render::docx(&report)],
            _ => render::markdown(&report).into_iter().map(Ok).collect(),
        }
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            tracing::error!(error = %error, "report not written");
            Status::internal("the report could not be written")
        })?;
        Ok(Response::new(api::Report {
            title: report.title,
            period: inputs.figures.period,
            formula_version: inputs.figures.formula_version,
            as_of: inputs.figures.as_of,
            files: files
                .into_iter()
                .map(|file| api::ReportFile {
                    name: file.name,
                    media_type: file.media_type.to_owned(),
                    content: file.content,
                })
                .collect(),
        }))
    }

    async fn get_work_figures(
        &self,
        request: Request<api::GetWorkFiguresRequest>,
    ) -> Result<Response<api::WorkFigures>, Status> {
        let request = request.into_inner();
        let mut violations = Vec::new();
        let period = period(&request.period, &mut violations);
        let as_of = as_of(request.as_of.as_ref(), self.clock.now(), &mut violations);
        let Some(period) = period.filter(|_| violations.is_empty()) else {
            return Err(invalid_argument(&violations));
        };
        read_work_figures(&self.db, &period, as_of, self.clock.now())
            .await
            .map(Response::new)
            .map_err(|error| QueryError::from(error).into())
    }
}
