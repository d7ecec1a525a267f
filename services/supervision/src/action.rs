//! A RecordCaseAction request read into the lifecycle's command, with every field checked at
//! the edge: what is missing or malformed is named, and nothing is recorded.

use prost::Message;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::Date;
use uuid::Uuid;
use xinfang_platform::grpc::FieldViolation;
use xinfang_platform::wire;
use xinfang_proto::supervision::v1::{self as api, record_case_action_request::Action};
use xinfang_proto::vocabulary::{Evaluation, ReplyDecision, ServiceMethod};

use crate::deadlines::MAX_EXTENSION_DAYS;
use crate::ledger::ExtensionNote;
use crate::lifecycle::Command;

/// The longest free text a step records (a reason, an opinion's facts).
const MAX_TEXT_CHARS: usize = 20_000;

/// One action on a case, parsed.
#[derive(Debug, Clone)]
pub struct CaseAction {
    pub request_id: Uuid,
    pub case_id: Uuid,
    /// `None`: today.
    pub occurred_on: Option<Date>,
    pub command: Command,
    /// The action's name in the history and on the event's subject (`accepted`).
    pub action: &'static str,
    /// What the command said, as the history keeps it.
    pub details: serde_json::Value,
    pub extension: Option<ExtensionNote>,
    /// Decided by the bureau or a higher organ, never by the unit that handles the case.
    pub bureau_only: bool,
    /// A notice text required if the case owes a notice (acceptance).
    pub notice_text: Option<String>,
    /// For a report to a higher bureau: that bureau's case number.
    pub upstream_reference: Option<String>,
    /// A hash of the request without its id, to tell a retry from another action.
    pub fingerprint: Vec<u8>,
}

pub fn parse(request: &api::RecordCaseActionRequest) -> Result<CaseAction, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let request_id = uuid(&request.request_id, "request_id", &mut violations);
    let case_id = uuid(&request.case_id, "case_id", &mut violations);
    let occurred_on = request.occurred_on.as_ref().and_then(|day| {
        wire::from_calendar_date(day)
            .map_err(|why| violations.push(FieldViolation::new("occurred_on", why)))
            .ok()
    });
    let parsed = match request.action.as_ref() {
        None => {
            violations.push(FieldViolation::new(
                "action",
                "is required: which action to record",
            ));
            None
        }
        Some(action) => parse_action(action, &mut violations),
    };
    let mut unnamed = request.clone();
    unnamed.request_id.clear();
    let fingerprint = Sha256::digest(unnamed.encode_to_vec()).to_vec();
    match (request_id, case_id, parsed) {
        (Some(request_id), Some(case_id), Some(parsed)) if violations.is_empty() => {
            Ok(CaseAction {
                request_id,
                case_id,
                occurred_on,
                command: parsed.command,
                action: parsed.action,
                details: parsed.details,
                extension: parsed.extension,
                bureau_only: parsed.bureau_only,
                notice_text: parsed.notice_text,
                upstream_reference: parsed.upstream_reference,
                fingerprint,
            })
        }
        _ => Err(violations),
    }
}

struct Parsed {
    command: Command,
    action: &'static str,
    details: serde_json::Value,
    extension: Option<ExtensionNote>,
    bureau_only: bool,
    notice_text: Option<String>,
    upstream_reference: Option<String>,
}

impl Parsed {
    fn unit(command: Command, action: &'static str, details: serde_json::Value) -> Option<Self> {
        Some(Self {
            command,
            action,
            details,
            extension: None,
            bureau_only: false,
            notice_text: None,
            upstream_reference: None,
        })
    }

    fn bureau(command: Command, action: &'static str, details: serde_json::Value) -> Option<Self> {
        Self::unit(command, action, details).map(|parsed| Self {
            bureau_only: true,
            ..parsed
        })
    }
}

fn parse_action(action: &Action, violations: &mut Vec<FieldViolation>) -> Option<Parsed> {
    let mut text = |field: &str, value: &str, required: bool| -> String {
        let value = value.trim();
        if required && value.is_empty() {
            violations.push(FieldViolation::new(field, "is required"));
        } else if value.chars().count() > MAX_TEXT_CHARS {
            violations.push(FieldViolation::new(
                field,
                format!("is longer than {MAX_TEXT_CHARS} characters"),
            ));
        }
        value.to_owned()
    };
    match action {
        Action::SignFor(sign) => Parsed::unit(
            Command::SignFor,
            "signed-for",
            json!({ "signed_by": text("sign_for.signed_by", &sign.signed_by, false) }),
        ),
        Action::Object(object) => Parsed::unit(
            Command::Object,
            "objected",
            json!({ "reasons": text("object.reasons", &object.reasons, true) }),
        ),
        Action::DecideObjection(decision) => Parsed::bureau(
            Command::DecideObjection {
                upheld: decision.upheld,
            },
            "objection-decided",
            json!({
                "upheld": decision.upheld,
                "reasons": text("decide_objection.reasons", &decision.reasons, true),
            }),
        ),
        Action::Accept(accept) => {
            let notice = text("accept.notice", &accept.notice, false);
            Some(Parsed {
                notice_text: Some(notice.clone()),
                ..Parsed::unit(Command::Accept, "accepted", json!({ "notice": notice }))?
            })
        }
        Action::Refuse(refuse) => Parsed::unit(
            Command::Refuse,
            "refused",
            json!({
                "reasons": text("refuse.reasons", &refuse.reasons, true),
                "legal_basis": text("refuse.legal_basis", &refuse.legal_basis, false),
            }),
        ),
        Action::Extend(extend) => {
            let reason = text("extend.reasons", &extend.reasons, true);
            let approved_by = text("extend.approved_by", &extend.approved_by, true);
            let days = match u16::try_from(extend.days) {
                Ok(days @ 1..=MAX_EXTENSION_DAYS) => Some(days),
                _ => {
                    violations.push(FieldViolation::new(
                        "extend.days",
                        format!("must be 1 to {MAX_EXTENSION_DAYS} (Art 32)"),
                    ));
                    None
                }
            };
            let told_on = match extend.petitioner_told_on.as_ref() {
                None => {
                    violations.push(FieldViolation::new(
                        "extend.petitioner_told_on",
                        "is required: the petitioner is told why (Art 32)",
                    ));
                    None
                }
                Some(day) => wire::from_calendar_date(day)
                    .map_err(|why| {
                        violations.push(FieldViolation::new("extend.petitioner_told_on", why))
                    })
                    .ok(),
            };
            let (days, told_on) = (days?, told_on?);
            Some(Parsed {
                extension: Some(ExtensionNote {
                    approved_by: approved_by.clone(),
                    reason: reason.clone(),
                    petitioner_told_on: told_on,
                }),
                ..Parsed::unit(
                    Command::Extend { days },
                    "extended",
                    json!({
                        "days": days,
                        "reasons": reason,
                        "approved_by": approved_by,
                        "petitioner_told_on": told_on.to_string(),
                    }),
                )?
            })
        }
        // The bureau answers to the higher bureau; the unit reports to the bureau.
        Action::ReportToUpstream(report) => {
            let reference = text("report_to_upstream.reference", &report.reference, true);
            let result = text("report_to_upstream.result", &report.result, true);
            Some(Parsed {
                upstream_reference: Some(reference.clone()),
                ..Parsed::bureau(
                    Command::ReportToUpstream,
                    "reported-to-upstream",
                    json!({ "reference": reference, "result": result }),
                )?
            })
        }
        Action::RecordStep(step) => Parsed::unit(
            Command::RecordStep,
            "step-recorded",
            json!({ "description": text("record_step.description", &step.description, true) }),
        ),
        Action::Reply(reply) => {
            let (decision, opinion) = opinion("reply.opinion", reply.opinion.as_ref(), violations)?;
            Parsed::unit(Command::Reply { decision }, "replied", opinion)
        }
        Action::RecordService(service) => {
            let method = ServiceMethod::from_proto(service.method)
                .map_err(|why| violations.push(FieldViolation::new("record_service.method", why)))
                .ok()?;
            Parsed::unit(
                Command::RecordService,
                "served",
                json!({ "method": method.code() }),
            )
        }
        // The petitioner's word, taken by the bureau (its return visit or the platform): a
        // unit does not grade itself.
        Action::Evaluate(evaluate) => {
            let evaluation = Evaluation::from_proto(evaluate.evaluation)
                .map_err(|why| violations.push(FieldViolation::new("evaluate.evaluation", why)))
                .ok()?;
            Parsed::bureau(
                Command::Evaluate(evaluation),
                "evaluated",
                json!({ "evaluation": evaluation.code() }),
            )
        }
        Action::RequestReview(request) => Parsed::bureau(
            Command::RequestReview,
            "review-requested",
            json!({
                "organ": text("request_review.organ", &request.organ, true),
                "reasons": text("request_review.reasons", &request.reasons, false),
            }),
        ),
        Action::DecideReview(decide) => {
            let organ = text("decide_review.organ", &decide.organ, true);
            let (decision, mut opinion) =
                opinion("decide_review.opinion", decide.opinion.as_ref(), violations)?;
            opinion["organ"] = json!(organ);
            Parsed::bureau(
                Command::DecideReview { decision },
                "review-decided",
                opinion,
            )
        }
        Action::RequestReReview(request) => Parsed::bureau(
            Command::RequestReReview,
            "re-review-requested",
            json!({
                "organ": text("request_re_review.organ", &request.organ, true),
                "reasons": text("request_re_review.reasons", &request.reasons, false),
            }),
        ),
        Action::OpenHearing(hearing) => Parsed::bureau(
            Command::OpenHearing,
            "hearing-opened",
            json!({ "reasons": text("open_hearing.reasons", &hearing.reasons, false) }),
        ),
        Action::CloseHearing(_) => {
            Parsed::bureau(Command::CloseHearing, "hearing-closed", json!({}))
        }
        Action::DecideReReview(decide) => {
            let organ = text("decide_re_review.organ", &decide.organ, true);
            let (decision, mut opinion) = opinion(
                "decide_re_review.opinion",
                decide.opinion.as_ref(),
                violations,
            )?;
            opinion["organ"] = json!(organ);
            Parsed::bureau(
                Command::DecideReReview { decision },
                "re-review-decided",
                opinion,
            )
        }
    }
}

/// A written opinion: request, facts, decision and legal basis, all required (Art 32).
fn opinion(
    field: &str,
    opinion: Option<&api::WrittenOpinion>,
    violations: &mut Vec<FieldViolation>,
) -> Option<(ReplyDecision, serde_json::Value)> {
    let Some(opinion) = opinion else {
        violations.push(FieldViolation::new(
            field,
            "is required: request, facts, decision and legal basis",
        ));
        return None;
    };
    let mut required = |name: &str, value: &str| {
        let value = value.trim();
        if value.is_empty() {
            violations.push(FieldViolation::new(
                format!("{field}.{name}"),
                "is required",
            ));
        } else if value.chars().count() > MAX_TEXT_CHARS {
            violations.push(FieldViolation::new(
                format!("{field}.{name}"),
                format!("is longer than {MAX_TEXT_CHARS} characters"),
            ));
        }
        value.to_owned()
    };
    let request = required("request", &opinion.request);
    let facts = required("facts", &opinion.facts);
    let legal_basis = required("legal_basis", &opinion.legal_basis);
    let decision = ReplyDecision::from_proto(opinion.decision)
        .map_err(|why| violations.push(FieldViolation::new(format!("{field}.decision"), why)))
        .ok()?;
    Some((
        decision,
        json!({
            "request": request,
            "facts": facts,
            "decision": decision.code(),
            "legal_basis": legal_basis,
        }),
    ))
}

fn uuid(text: &str, field: &str, violations: &mut Vec<FieldViolation>) -> Option<Uuid> {
    Uuid::parse_str(text)
        .map_err(|_| violations.push(FieldViolation::new(field, "must be a UUID")))
        .ok()
}
