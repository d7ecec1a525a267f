//! What a command (a clerk's routing, an administrator's change) can fail with, mapped
//! once to gRPC status codes.

use tonic::Status;
use xinfang_platform::grpc::{FieldViolation, invalid_argument};

use crate::versions::VersionsError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    FailedPrecondition(String),
    /// It may pass later (another service has not caught up yet).
    #[error("{0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Versions(#[from] VersionsError),
}

impl CommandError {
    pub fn invalid(field: &str, why: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, why)])
    }
}

impl From<CommandError> for Status {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::InvalidArgument(violations) => invalid_argument(&violations),
            CommandError::NotFound(what) => Status::not_found(what),
            CommandError::FailedPrecondition(why) => Status::failed_precondition(why),
            CommandError::Unavailable(why) => Status::unavailable(why),
            CommandError::Database(error)
            | CommandError::Versions(VersionsError::Database(error)) => {
                tracing::error!(error = %error, "database error");
                Status::unavailable("the change could not be made now; retry")
            }
            CommandError::Versions(error @ VersionsError::Damaged(_)) => {
                tracing::error!(error = %error, "stored directory");
                Status::internal("the stored directory is damaged; the operators are told")
            }
        }
    }
}

impl From<VersionsError> for Status {
    fn from(error: VersionsError) -> Self {
        CommandError::from(error).into()
    }
}
