//! The case lifecycle as one explicit state machine (DOMAIN.md, "The procedure"; Art 22–36):
//! from the unit's sign-for (签收) through acceptance (受理) or refusal (不予受理),
//! handling, the written reply and its service (送达: the case is then completed, 办结),
//! to review (复查) and re-review (复核), each decided and served, after which the matter is
//! final.
//!
//! Pure: the stage, the command, the day it happens, the clocks' due days and the calendar
//! in; the next stage and its effects (on the clocks, and what is to be recorded) out. A
//! command the stage does not allow is refused naming the stage (the API answers
//! FAILED_PRECONDITION). The gRPC commands, the storage and the events are built on this.

use time::Date;
use xinfang_proto::v1::CaseStage;
/// A legal clock: the lifecycle opens and closes those of the unit's procedure; the
/// service opens the others (forward, upstream, assignment, letter replies).
pub use xinfang_proto::vocabulary::DeadlineKind as Clock;
pub use xinfang_proto::vocabulary::{Evaluation, ReplyDecision};

use crate::calendar::HolidayCalendar;
use crate::deadlines::{
    self, DeadlineRule, HANDLING, MAX_EXTENSION_DAYS, NOTICE_OF_RECEIPT, OBJECTION,
    REVIEW_DECISION, REVIEW_REQUEST,
};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Registered; routing has not decided yet.
    Registered,
    /// Held at the bureau for a clerk to route by hand: the forward clock keeps running.
    HeldForTriage,
    /// Diverted to a statutory channel with a guidance notice, and closed as diverted: no
    /// unit's procedure follows.
    Diverted,
    /// Registered, and not accepted: it repeats a matter final after re-review (Art 36).
    NotAcceptedFinal,
    /// Linked by a clerk into another case of the same matter, sent down by another higher
    /// bureau: handled, and reported back, as part of that case.
    Linked,
    /// Routed to a unit that has not signed for it yet.
    AwaitingSignFor,
    /// The unit has it (its receipt): it accepts, refuses, or objects to the routing.
    SignedFor {
        on: Date,
    },
    /// The unit objected that the matter is not its business; the forwarding bureau
    /// decides (Art 23).
    ObjectionPending {
        signed_for_on: Date,
        objected_on: Date,
    },
    /// The bureau upheld the objection: the materials go back and the case is routed again.
    Returned {
        on: Date,
    },
    /// Being handled; at most one extension.
    Accepted {
        on: Date,
        extended_by: Option<u16>,
    },
    /// Not accepted, with the written notice to the petitioner.
    Refused {
        on: Date,
    },
    /// The written opinion is issued and waits to be served.
    Replied {
        on: Date,
    },
    /// The reply was served: the case is completed, and review may be asked for.
    Completed {
        served_on: Date,
    },
    UnderReview {
        requested_on: Date,
    },
    /// The review is decided; its opinion waits to be served.
    ReviewDecided {
        on: Date,
    },
    /// The review opinion was served: re-review may be asked for.
    Reviewed {
        served_on: Date,
    },
    /// Being re-reviewed; a hearing pauses its clock.
    UnderReReview {
        requested_on: Date,
        hearing_since: Option<Date>,
    },
    /// The re-review is decided; its opinion waits to be served.
    ReReviewDecided {
        on: Date,
    },
    /// Re-reviewed and served: the same facts and reasons are not accepted again (Art 36).
    Final {
        served_on: Date,
    },
}

impl Stage {
    /// The stage's name, as a refusal names it.
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Registered => "registered and not routed yet",
            Stage::HeldForTriage => "held at the bureau for triage",
            Stage::Diverted => "diverted to a statutory channel",
            Stage::NotAcceptedFinal => "not accepted: its matter is final after re-review",
            Stage::Linked => "linked into another case of the same matter",
            Stage::AwaitingSignFor => "awaiting sign-for",
            Stage::SignedFor { .. } => "signed for",
            Stage::ObjectionPending { .. } => "awaiting the bureau on an objection",
            Stage::Returned { .. } => "returned to the bureau",
            Stage::Accepted { .. } => "accepted",
            Stage::Refused { .. } => "refused",
            Stage::Replied { .. } => "replied",
            Stage::Completed { .. } => "completed",
            Stage::UnderReview { .. } => "under review",
            Stage::ReviewDecided { .. } => "review decided",
            Stage::Reviewed { .. } => "reviewed",
            Stage::UnderReReview { .. } => "under re-review",
            Stage::ReReviewDecided { .. } => "re-review decided",
            Stage::Final { .. } => "final",
        }
    }

    pub fn to_proto(&self) -> CaseStage {
        match self {
            Stage::Registered => CaseStage::Registered,
            Stage::HeldForTriage => CaseStage::HeldForTriage,
            Stage::Diverted => CaseStage::Diverted,
            Stage::NotAcceptedFinal => CaseStage::NotAcceptedFinal,
            Stage::Linked => CaseStage::Linked,
            Stage::AwaitingSignFor => CaseStage::AwaitingSignFor,
            Stage::SignedFor { .. } => CaseStage::SignedFor,
            Stage::ObjectionPending { .. } => CaseStage::ObjectionPending,
            Stage::Returned { .. } => CaseStage::Returned,
            Stage::Accepted { .. } => CaseStage::Accepted,
            Stage::Refused { .. } => CaseStage::Refused,
            Stage::Replied { .. } => CaseStage::Replied,
            Stage::Completed { .. } => CaseStage::Completed,
            Stage::UnderReview { .. } => CaseStage::UnderReview,
            Stage::ReviewDecided { .. } => CaseStage::ReviewDecided,
            Stage::Reviewed { .. } => CaseStage::Reviewed,
            Stage::UnderReReview { .. } => CaseStage::UnderReReview,
            Stage::ReReviewDecided { .. } => CaseStage::ReReviewDecided,
            Stage::Final { .. } => CaseStage::Final,
        }
    }

    /// Whether the case is with a unit (it has signed for it or may): not while it waits
    /// for routing, nor once sent back to the bureau.
    pub fn is_at_a_unit(&self) -> bool {
        !matches!(
            self,
            Stage::Registered
                | Stage::HeldForTriage
                | Stage::Diverted
                | Stage::NotAcceptedFinal
                | Stage::Linked
                | Stage::Returned { .. }
        )
    }
}

/// What a unit, the bureau, a higher organ or the petitioner does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    SignFor,
    /// The unit objects, with reasons, that the matter is not its business.
    Object,
    /// The forwarding bureau decides the objection: upheld sends the case back.
    DecideObjection {
        upheld: bool,
    },
    Accept,
    Refuse,
    /// Extend the handling period by this many days (approved by the unit's head, the
    /// petitioner told why).
    Extend {
        days: u16,
    },
    RecordStep,
    Reply {
        decision: ReplyDecision,
    },
    /// The written reply, review opinion or re-review opinion reached the petitioner.
    RecordService,
    Evaluate(Evaluation),
    RequestReview,
    DecideReview {
        decision: ReplyDecision,
    },
    RequestReReview,
    OpenHearing,
    CloseHearing,
    DecideReReview {
        decision: ReplyDecision,
    },
    /// The bureau reports the result back to a higher bureau (which one: the action's).
    ReportToUpstream,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::SignFor => "sign for",
            Command::Object => "object",
            Command::DecideObjection { .. } => "decide the objection",
            Command::Accept => "accept",
            Command::Refuse => "refuse",
            Command::Extend { .. } => "extend",
            Command::RecordStep => "record a handling step",
            Command::Reply { .. } => "reply",
            Command::RecordService => "record service",
            Command::Evaluate(_) => "evaluate",
            Command::RequestReview => "request review",
            Command::DecideReview { .. } => "decide review",
            Command::RequestReReview => "request re-review",
            Command::OpenHearing => "open a hearing",
            Command::CloseHearing => "close the hearing",
            Command::DecideReReview { .. } => "decide re-review",
            Command::ReportToUpstream => "report the result to a higher bureau",
        }
    }
}

/// What a step does to the case's clocks, and what it records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Open {
        clock: Clock,
        start: Date,
        rule: DeadlineRule,
    },
    /// Done, in time or late: the ledger compares with the due day.
    Meet {
        clock: Clock,
        on: Date,
    },
    /// No longer running, neither met nor missed (an objection window once the unit accepts).
    Close {
        clock: Clock,
        on: Date,
    },
    Extend {
        clock: Clock,
        days: u16,
    },
    Pause {
        clock: Clock,
        on: Date,
    },
    /// The pause ends: the days from the pause to `on`, both counted, are not counted.
    Resume {
        clock: Clock,
        on: Date,
    },
    /// The decision of a written opinion (the reply, a review or a re-review).
    Opinion(ReplyDecision),
    Evaluated(Evaluation),
    /// A dissatisfied petitioner: the supervisor follows up.
    FollowUp,
    /// The same facts and reasons are final (Art 36): intake refuses them again.
    MatterFinal,
}

/// What the case is, as far as its clocks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts {
    /// Whether the notice of receipt is owed at all (not when name or address is unknown,
    /// nor for accusations with the discipline commission or matters with the
    /// political-legal organs, which follow their own procedures; Art 23).
    pub notice_owed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("cannot {command} a case that is {stage}")]
    NotAllowed {
        command: &'static str,
        stage: &'static str,
    },
    #[error("cannot {command} a case that is {stage}: the time for it ended on {due}")]
    TooLate {
        command: &'static str,
        stage: &'static str,
        due: Date,
    },
    #[error(
        "cannot object again: the unit objected to this routing once, and the bureau rejected it"
    )]
    ObjectedAlready,
    #[error("cannot extend a case that is {stage}: its handling period was extended already")]
    AlreadyExtended { stage: &'static str },
    #[error("an extension is 1 to {MAX_EXTENSION_DAYS} days, not {0}")]
    ExtensionOutOfRange(u16),
}

/// The next stage and the effects of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub stage: Stage,
    pub effects: Vec<Effect>,
}

/// Decides `command` on `on`. `due` gives an open clock's due day (from the ledger), so an
/// extension or a hearing cannot come after the time they would stretch has run out.
pub fn decide(
    stage: Stage,
    command: Command,
    on: Date,
    facts: CaseFacts,
    due: impl Fn(Clock) -> Option<Date>,
    calendar: &HolidayCalendar,
) -> Result<Step, Refusal> {
    use Clock::*;
    let step = |stage, effects| Ok(Step { stage, effects });
    let too_late = |due: Date| Refusal::TooLate {
        command: command.name(),
        stage: stage.name(),
        due,
    };
    let within = |start: Date, rule| {
        let last = deadlines::deadline(start, rule, calendar).due;
        if on <= last {
            Ok(())
        } else {
            Err(too_late(last))
        }
    };
    let before_due = |clock| match due(clock) {
        Some(last) if on > last => Err(too_late(last)),
        _ => Ok(()),
    };
    let open = |clock, rule| Effect::Open {
        clock,
        start: on,
        rule,
    };
    let meet = |clock| Effect::Meet { clock, on };
    match (stage, command) {
        (Stage::AwaitingSignFor, Command::SignFor) => {
            let mut effects = vec![open(Objection, OBJECTION)];
            if facts.notice_owed {
                effects.push(open(NoticeOfReceipt, NOTICE_OF_RECEIPT));
            }
            step(Stage::SignedFor { on }, effects)
        }
        (Stage::SignedFor { on: signed_for_on }, Command::Object) => {
            // One objection per routing: a rejected one already met the window.
            if due(Objection).is_none() {
                return Err(Refusal::ObjectedAlready);
            }
            before_due(Objection)?;
            step(
                Stage::ObjectionPending {
                    signed_for_on,
                    objected_on: on,
                },
                vec![meet(Objection)],
            )
        }
        (Stage::ObjectionPending { .. }, Command::DecideObjection { upheld: true }) => {
            // Not this unit's case: it owes the petitioner no notice of receipt.
            let mut effects = Vec::new();
            if due(NoticeOfReceipt).is_some() {
                effects.push(Effect::Close {
                    clock: NoticeOfReceipt,
                    on,
                });
            }
            step(Stage::Returned { on }, effects)
        }
        // Rejected: the unit keeps the case, and its notice clock never stopped.
        (
            Stage::ObjectionPending { signed_for_on, .. },
            Command::DecideObjection { upheld: false },
        ) => step(Stage::SignedFor { on: signed_for_on }, Vec::new()),
        (Stage::SignedFor { .. }, Command::Accept) => step(
            Stage::Accepted {
                on,
                extended_by: None,
            },
            {
                let mut effects = told(&due, on);
                effects.push(open(Handling, HANDLING));
                effects
            },
        ),
        (Stage::SignedFor { .. }, Command::Refuse) => step(Stage::Refused { on }, told(&due, on)),
        (
            Stage::Accepted {
                extended_by: Some(_),
                ..
            },
            Command::Extend { .. },
        ) => Err(Refusal::AlreadyExtended {
            stage: stage.name(),
        }),
        (Stage::Accepted { on: accepted, .. }, Command::Extend { days }) => {
            if days == 0 || days > MAX_EXTENSION_DAYS {
                return Err(Refusal::ExtensionOutOfRange(days));
            }
            // An overdue case is not made punctual by extending it afterwards.
            before_due(Handling)?;
            step(
                Stage::Accepted {
                    on: accepted,
                    extended_by: Some(days),
                },
                vec![Effect::Extend {
                    clock: Handling,
                    days,
                }],
            )
        }
        (accepted @ Stage::Accepted { .. }, Command::RecordStep) => step(accepted, Vec::new()),
        (Stage::Accepted { .. }, Command::Reply { decision }) => {
            step(Stage::Replied { on }, vec![Effect::Opinion(decision)])
        }
        // Handling ends at completion (办结), when the reply reaches the petitioner.
        (Stage::Replied { .. }, Command::RecordService) => step(
            Stage::Completed { served_on: on },
            vec![meet(Handling), open(ReviewRequest, REVIEW_REQUEST)],
        ),
        (
            served @ (Stage::Completed { .. } | Stage::Reviewed { .. } | Stage::Final { .. }),
            Command::Evaluate(evaluation),
        ) => {
            let mut effects = vec![Effect::Evaluated(evaluation)];
            if evaluation == Evaluation::Dissatisfied {
                effects.push(Effect::FollowUp);
            }
            step(served, effects)
        }
        (Stage::Completed { served_on }, Command::RequestReview) => {
            within(served_on, REVIEW_REQUEST)?;
            step(
                Stage::UnderReview { requested_on: on },
                vec![meet(ReviewRequest), open(ReviewDecision, REVIEW_DECISION)],
            )
        }
        (Stage::UnderReview { .. }, Command::DecideReview { decision }) => step(
            Stage::ReviewDecided { on },
            vec![meet(ReviewDecision), Effect::Opinion(decision)],
        ),
        // The re-review window runs from the petitioner's receipt of the review opinion.
        (Stage::ReviewDecided { .. }, Command::RecordService) => step(
            Stage::Reviewed { served_on: on },
            vec![open(ReReviewRequest, REVIEW_REQUEST)],
        ),
        (Stage::Reviewed { served_on }, Command::RequestReReview) => {
            within(served_on, REVIEW_REQUEST)?;
            step(
                Stage::UnderReReview {
                    requested_on: on,
                    hearing_since: None,
                },
                vec![
                    meet(ReReviewRequest),
                    open(ReReviewDecision, REVIEW_DECISION),
                ],
            )
        }
        (
            Stage::UnderReReview {
                requested_on,
                hearing_since: None,
            },
            Command::OpenHearing,
        ) => {
            // A hearing does not make a late decision punctual.
            before_due(ReReviewDecision)?;
            step(
                Stage::UnderReReview {
                    requested_on,
                    hearing_since: Some(on),
                },
                vec![Effect::Pause {
                    clock: ReReviewDecision,
                    on,
                }],
            )
        }
        (
            Stage::UnderReReview {
                requested_on,
                hearing_since: Some(_),
            },
            Command::CloseHearing,
        ) => step(
            Stage::UnderReReview {
                requested_on,
                hearing_since: None,
            },
            vec![Effect::Resume {
                clock: ReReviewDecision,
                on,
            }],
        ),
        (
            Stage::UnderReReview {
                hearing_since: None,
                ..
            },
            Command::DecideReReview { decision },
        ) => step(
            Stage::ReReviewDecided { on },
            vec![meet(ReReviewDecision), Effect::Opinion(decision)],
        ),
        (Stage::ReReviewDecided { .. }, Command::RecordService) => {
            step(Stage::Final { served_on: on }, vec![Effect::MatterFinal])
        }
        // A result to report: the case was refused, diverted, not accepted as final, or
        // replied to, or went further.
        (
            stage @ (Stage::Refused { .. }
            | Stage::Diverted
            | Stage::NotAcceptedFinal
            | Stage::Replied { .. }
            | Stage::Completed { .. }
            | Stage::UnderReview { .. }
            | Stage::ReviewDecided { .. }
            | Stage::Reviewed { .. }
            | Stage::UnderReReview { .. }
            | Stage::ReReviewDecided { .. }
            | Stage::Final { .. }),
            Command::ReportToUpstream,
        ) => step(stage, Vec::new()),
        (stage, command) => Err(Refusal::NotAllowed {
            command: command.name(),
            stage: stage.name(),
        }),
    }
}

/// Accepting or refusing: the unit's written notice meets the notice-of-receipt clock, and
/// the objection window closes — each only if it is still open (a notice not owed was never
/// opened; an objection made and rejected already met its window).
fn told(due: &impl Fn(Clock) -> Option<Date>, on: Date) -> Vec<Effect> {
    let mut effects = Vec::new();
    if due(Clock::NoticeOfReceipt).is_some() {
        effects.push(Effect::Meet {
            clock: Clock::NoticeOfReceipt,
            on,
        });
    }
    if due(Clock::Objection).is_some() {
        effects.push(Effect::Close {
            clock: Clock::Objection,
            on,
        });
    }
    effects
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
