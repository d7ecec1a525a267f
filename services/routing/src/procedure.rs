//! Where a case stands in its unit's procedure, asked of supervision, which records the
//! sign-for (签收), the unit's objection and the bureau's decision on it, and counts the
//! objection window in working days. The first service-to-service call: routing presents
//! its own identity (`XINFANG_SERVICE_TOKEN_FILE`), and supervision checks and audits it.

use tonic::{Code, Status};
use uuid::Uuid;
use xinfang_platform::calls::Callee;
use xinfang_proto::supervision::v1::GetCaseTimelineRequest;
use xinfang_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use xinfang_proto::v1::CaseStage;

#[derive(Clone)]
pub struct Procedure {
    pub supervision: Callee,
}

impl Procedure {
    /// The case's stage, and the routing revision supervision follows (0 before it opened
    /// the case); UNAVAILABLE when supervision cannot say now.
    pub async fn stage(&self, case_id: Uuid) -> Result<(CaseStage, u32), Status> {
        let mut client = SupervisionServiceClient::new(self.supervision.channel()?);
        match client
            .get_case_timeline(GetCaseTimelineRequest {
                case_id: case_id.to_string(),
            })
            .await
        {
            Ok(timeline) => {
                let timeline = timeline.into_inner();
                Ok((timeline.stage(), timeline.routing_revision))
            }
            // Supervision has not opened the case yet: no unit has signed for it.
            Err(status) if status.code() == Code::NotFound => Ok((CaseStage::Registered, 0)),
            Err(status) => {
                tracing::error!(case = %case_id, code = ?status.code(), message = status.message(), url = %self.supervision.url(), "ask supervision where the case stands");
                Err(Status::unavailable(format!(
                    "supervision cannot say now where case {case_id} stands in its procedure; retry"
                )))
            }
        }
    }
}
