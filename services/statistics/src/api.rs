//! The gRPC face of statistics.

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use xinfang_platform::grpc::QueryError;
use xinfang_proto::statistics::v1::{self as api, statistics_service_server::StatisticsService};

use crate::overview::consistent_overview;

pub struct StatisticsApi {
    pub db: DatabaseConnection,
}

#[tonic::async_trait]
impl StatisticsService for StatisticsApi {
    async fn get_overview(
        &self,
        _request: Request<api::GetOverviewRequest>,
    ) -> Result<Response<api::Overview>, Status> {
        consistent_overview(&self.db)
            .await
            .map(Response::new)
            .map_err(|error| QueryError::from(error).into())
    }
}
