//! What a registration answers, whichever way the petition came in (a clerk's gRPC call, a
//! system's submission over NATS): the query code, and what the petitioner should be told.

use xinfang_platform::auth::Authorized;
use xinfang_platform::sealing::KeyRing;
use xinfang_platform::write::WritePath;

use crate::register::{RegisterError, Registered};
use crate::{directory, finality, query_code, view};

/// The query code of this answer: the one registration gave, or, when this answers a retry
/// whose first answer was lost (and its code with it), a new one — the only code that then
/// works.
pub async fn query_code(
    write: &WritePath,
    keys: &KeyRing,
    registered: &Registered,
    registering: &Authorized,
) -> Result<String, AnswerError> {
    if let Some(code) = &registered.query_code {
        // Audited in the registering transaction.
        tracing::info!("petition registered");
        return Ok(code.clone());
    }
    let case_id = registered.petition.case_id;
    let code = query_code::reissue(&write.db, keys, case_id)
        .await
        .map_err(|error| AnswerError::Register(RegisterError::Database(error)))?;
    registering
        .audit(
            Some(case_id),
            true,
            "answered a retry with a new query code",
        )
        .await
        .map_err(AnswerError::Audit)?;
    Ok(code)
}

#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error(transparent)]
    Register(#[from] RegisterError),
    #[error("audit: {0}")]
    Audit(tonic::Status),
}

/// What the petitioner should be told at registration: an accused unit not in the
/// directory, a matter final after re-review (Art 36), a repeat or a collective matter.
/// `numbers`: whether the caller may learn other cases' numbers (a bureau-wide clerk), or
/// only that they exist. The petition is committed: a read failing here leaves its notice
/// out rather than turning the registration into an error.
pub async fn notices(
    write: &WritePath,
    keys: &KeyRing,
    registered: &Registered,
    numbers: bool,
) -> Vec<String> {
    let petition = &registered.petition;
    let mut notices = Vec::new();
    match directory::accused_unit_notice(&write.db, petition.accused_unit_code.as_deref()).await {
        Ok(notice) => notices.extend(notice),
        Err(error) => {
            tracing::warn!(error = %error, "the accused unit could not be checked for the answer; routing still checks it");
        }
    }
    match finality::repeated_final_case(&write.db, keys, petition).await {
        Ok(Some(final_case)) => notices.push(format!(
            "the same matter of this petitioner was re-reviewed and is final (Art 36){}. It is registered and will not be accepted again; the bureau answers the petitioner so",
            if numbers { format!(": case {final_case}") } else { String::new() }
        )),
        Ok(None) => {}
        Err(error) => tracing::warn!(error = %error, "final matters not checked for the answer"),
    }
    notices.extend(view::relation_notices(petition, numbers));
    notices
}
