//! The case lifecycle as one explicit state machine (DOMAIN.md, "The procedure"; Art 22–36):
//! from the unit's sign-for (签收) through acceptance (受理) or refusal (不予受理),
//! handling, the written reply and its service (送达, the case is then completed, 办结), to
//! review (复查) and re-review (复核), after which the matter is final.
//!
//! Pure: the stage, the command, the day it happens and the calendar in; the next stage and
//! what it does to the case's clocks out. A command the stage does not allow is refused
//! naming the stage (the API answers FAILED_PRECONDITION). The gRPC commands, the deadline
//! ledger that applies the clock effects and the events are built on this.

use time::Date;

use crate::calendar::HolidayCalendar;
use crate::deadlines::{
    self, DeadlineRule, HANDLING, MAX_EXTENSION_DAYS, NOTICE_OF_RECEIPT, OBJECTION,
    REVIEW_DECISION, REVIEW_REQUEST,
};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Routed to a unit that has not signed for it yet.
    AwaitingSignFor,
    /// The unit has it (its receipt): it accepts, refuses, or objects to the routing.
    SignedFor {
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
    /// The review decision was served: re-review may be asked for.
    Reviewed {
        served_on: Date,
    },
    /// Being re-reviewed; a hearing pauses its clock.
    UnderReReview {
        requested_on: Date,
        hearing_since: Option<Date>,
    },
    /// Re-reviewed: the same facts and reasons are not accepted again anywhere (Art 36).
    Final {
        decided_on: Date,
    },
}

impl Stage {
    /// The stage's name, as a refusal names it.
    pub fn name(&self) -> &'static str {
        match self {
            Stage::AwaitingSignFor => "awaiting sign-for",
            Stage::SignedFor { .. } => "signed for",
            Stage::Accepted { .. } => "accepted",
            Stage::Refused { .. } => "refused",
            Stage::Replied { .. } => "replied",
            Stage::Completed { .. } => "completed",
            Stage::UnderReview { .. } => "under review",
            Stage::Reviewed { .. } => "reviewed",
            Stage::UnderReReview { .. } => "under re-review",
            Stage::Final { .. } => "final",
        }
    }
}

/// The decision a written opinion gives (信访处理意见书, Art 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyDecision {
    Support,
    Explain,
    NotSupport,
}

/// The petitioner's evaluation of the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluation {
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
}

/// What a unit, the bureau or the petitioner does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    SignFor,
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
    RecordService,
    Evaluate(Evaluation),
    RequestReview,
    DecideReview,
    RequestReReview,
    OpenHearing,
    CloseHearing,
    DecideReReview,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::SignFor => "sign for",
            Command::Accept => "accept",
            Command::Refuse => "refuse",
            Command::Extend { .. } => "extend",
            Command::RecordStep => "record a handling step",
            Command::Reply { .. } => "reply",
            Command::RecordService => "record service",
            Command::Evaluate(_) => "evaluate",
            Command::RequestReview => "request review",
            Command::DecideReview => "decide review",
            Command::RequestReReview => "request re-review",
            Command::OpenHearing => "open a hearing",
            Command::CloseHearing => "close the hearing",
            Command::DecideReReview => "decide re-review",
        }
    }
}

/// A legal clock the lifecycle opens and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    NoticeOfReceipt,
    Objection,
    Handling,
    ReviewRequest,
    ReviewDecision,
    ReReviewRequest,
    ReReviewDecision,
}

/// What a step does to the case's clocks and beyond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Open {
        clock: Clock,
        start: Date,
        rule: DeadlineRule,
    },
    /// Done in time or late: the ledger compares with the due day.
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
    Resume {
        clock: Clock,
        on: Date,
    },
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
    #[error("the window to {command} closed on {due}")]
    WindowClosed { command: &'static str, due: Date },
    #[error("an extension is 1 to {MAX_EXTENSION_DAYS} days, not {0}")]
    ExtensionOutOfRange(u16),
    #[error("the handling period was extended already")]
    AlreadyExtended,
}

/// The next stage and the effects of `command` on `on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub stage: Stage,
    pub effects: Vec<Effect>,
}

pub fn decide(
    stage: Stage,
    command: Command,
    on: Date,
    facts: CaseFacts,
    calendar: &HolidayCalendar,
) -> Result<Step, Refusal> {
    use Clock::*;
    let step = |stage, effects| Ok(Step { stage, effects });
    let within = |start: Date, rule| {
        let due = deadlines::deadline(start, rule, calendar).due;
        if on <= due {
            Ok(())
        } else {
            Err(Refusal::WindowClosed {
                command: command.name(),
                due,
            })
        }
    };
    match (stage, command) {
        (Stage::AwaitingSignFor, Command::SignFor) => {
            let mut effects = vec![Effect::Open {
                clock: Objection,
                start: on,
                rule: OBJECTION,
            }];
            if facts.notice_owed {
                effects.push(Effect::Open {
                    clock: NoticeOfReceipt,
                    start: on,
                    rule: NOTICE_OF_RECEIPT,
                });
            }
            step(Stage::SignedFor { on }, effects)
        }
        (Stage::SignedFor { .. }, Command::Accept) => step(
            Stage::Accepted {
                on,
                extended_by: None,
            },
            told(
                facts,
                on,
                [
                    Effect::Close {
                        clock: Objection,
                        on,
                    },
                    Effect::Open {
                        clock: Handling,
                        start: on,
                        rule: HANDLING,
                    },
                ],
            ),
        ),
        (Stage::SignedFor { .. }, Command::Refuse) => step(
            Stage::Refused { on },
            told(
                facts,
                on,
                [Effect::Close {
                    clock: Objection,
                    on,
                }],
            ),
        ),
        (
            Stage::Accepted {
                extended_by: Some(_),
                ..
            },
            Command::Extend { .. },
        ) => Err(Refusal::AlreadyExtended),
        (Stage::Accepted { on: accepted, .. }, Command::Extend { days }) => {
            if days == 0 || days > MAX_EXTENSION_DAYS {
                return Err(Refusal::ExtensionOutOfRange(days));
            }
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
        (Stage::Accepted { .. }, Command::Reply { .. }) => step(
            Stage::Replied { on },
            vec![Effect::Meet {
                clock: Handling,
                on,
            }],
        ),
        (Stage::Replied { .. }, Command::RecordService) => step(
            Stage::Completed { served_on: on },
            vec![Effect::Open {
                clock: ReviewRequest,
                start: on,
                rule: REVIEW_REQUEST,
            }],
        ),
        (
            served @ (Stage::Completed { .. } | Stage::Reviewed { .. } | Stage::Final { .. }),
            Command::Evaluate(evaluation),
        ) => step(
            served,
            if evaluation == Evaluation::Dissatisfied {
                vec![Effect::FollowUp]
            } else {
                Vec::new()
            },
        ),
        (Stage::Completed { served_on }, Command::RequestReview) => {
            within(served_on, REVIEW_REQUEST)?;
            step(
                Stage::UnderReview { requested_on: on },
                vec![
                    Effect::Meet {
                        clock: ReviewRequest,
                        on,
                    },
                    Effect::Open {
                        clock: ReviewDecision,
                        start: on,
                        rule: REVIEW_DECISION,
                    },
                ],
            )
        }
        (Stage::UnderReview { .. }, Command::DecideReview) => step(
            Stage::Reviewed { served_on: on },
            vec![
                Effect::Meet {
                    clock: ReviewDecision,
                    on,
                },
                Effect::Open {
                    clock: ReReviewRequest,
                    start: on,
                    rule: REVIEW_REQUEST,
                },
            ],
        ),
        (Stage::Reviewed { served_on }, Command::RequestReReview) => {
            within(served_on, REVIEW_REQUEST)?;
            step(
                Stage::UnderReReview {
                    requested_on: on,
                    hearing_since: None,
                },
                vec![
                    Effect::Meet {
                        clock: ReReviewRequest,
                        on,
                    },
                    Effect::Open {
                        clock: ReReviewDecision,
                        start: on,
                        rule: REVIEW_DECISION,
                    },
                ],
            )
        }
        (
            Stage::UnderReReview {
                requested_on,
                hearing_since: None,
            },
            Command::OpenHearing,
        ) => step(
            Stage::UnderReReview {
                requested_on,
                hearing_since: Some(on),
            },
            vec![Effect::Pause {
                clock: ReReviewDecision,
                on,
            }],
        ),
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
            Command::DecideReReview,
        ) => step(
            Stage::Final { decided_on: on },
            vec![
                Effect::Meet {
                    clock: ReReviewDecision,
                    on,
                },
                Effect::MatterFinal,
            ],
        ),
        (stage, command) => Err(Refusal::NotAllowed {
            command: command.name(),
            stage: stage.name(),
        }),
    }
}

/// The unit's written notice (of acceptance and route, or of refusal) meets the notice of
/// receipt clock, when it is owed.
fn told<const N: usize>(facts: CaseFacts, on: Date, effects: [Effect; N]) -> Vec<Effect> {
    let mut all = effects.to_vec();
    if facts.notice_owed {
        all.insert(
            0,
            Effect::Meet {
                clock: Clock::NoticeOfReceipt,
                on,
            },
        );
    }
    all
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
