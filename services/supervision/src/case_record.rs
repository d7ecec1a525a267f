//! A case as stored, read into the domain's terms — its stage and its deadline ledger — and
//! written back. The one place that knows how a stage and a clock are spelled in the
//! tables.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use time::Date;
use uuid::Uuid;
use xinfang_proto::vocabulary::UnitKind;

use crate::deadlines::{DeadlineRule, Span};
use crate::ledger::{DeadlineLedger, ExtensionNote, LedgerEntry};
use crate::lifecycle::{CaseFacts, Clock, Stage};
use crate::store::{case, clock};
use crate::timeline::LegalTrack;

/// A case with its stage and ledger, as one transaction reads and writes it.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub row: case::Model,
    pub stage: Stage,
    pub ledger: DeadlineLedger,
    /// Not stored yet: saved with an insert.
    pub new: bool,
}

fn corrupt(what: String) -> DbErr {
    DbErr::Custom(format!("stored case is not readable: {what}"))
}

impl CaseRecord {
    pub async fn load<C: ConnectionTrait>(db: &C, case_id: Uuid) -> Result<Option<Self>, DbErr> {
        let Some(row) = case::Entity::find_by_id(case_id).one(db).await? else {
            return Ok(None);
        };
        let clocks = clock::Entity::find()
            .filter(clock::Column::CaseId.eq(case_id))
            .order_by_asc(clock::Column::Seq)
            .all(db)
            .await?;
        Self::from_rows(row, clocks).map(Some)
    }

    /// As [`CaseRecord::load`], locking the case's row until the transaction ends
    /// (PostgreSQL; SQLite has one writer): two changes of one case — an action and a
    /// timer's letter, say — run one after the other, never over each other.
    pub async fn load_for_update<C: ConnectionTrait>(
        db: &C,
        case_id: Uuid,
    ) -> Result<Option<Self>, DbErr> {
        let Some(row) = case::Entity::find_by_id(case_id)
            .lock_exclusive()
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let clocks = clock::Entity::find()
            .filter(clock::Column::CaseId.eq(case_id))
            .order_by_asc(clock::Column::Seq)
            .all(db)
            .await?;
        Self::from_rows(row, clocks).map(Some)
    }

    pub fn from_rows(row: case::Model, clocks: Vec<clock::Model>) -> Result<Self, DbErr> {
        let stage = stage_of(&row)?;
        let entries = clocks.iter().map(entry_of).collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            row,
            stage,
            ledger: DeadlineLedger { entries },
            new: false,
        })
    }

    /// Writes the case and its whole ledger (a ledger is a handful of rows).
    pub async fn save<C: ConnectionTrait>(&self, db: &C) -> Result<(), DbErr> {
        let mut row = self.row.clone();
        set_stage(&mut row, self.stage);
        if self.new {
            case::Entity::insert(case::ActiveModel::from(row))
                .exec_without_returning(db)
                .await?;
        } else {
            row.into_active_model().reset_all().update(db).await?;
            clock::Entity::delete_many()
                .filter(clock::Column::CaseId.eq(self.row.case_id))
                .exec(db)
                .await?;
        }
        if !self.ledger.entries.is_empty() {
            clock::Entity::insert_many(
                self.ledger
                    .entries
                    .iter()
                    .enumerate()
                    .map(|(seq, entry)| row_of(self.row.case_id, seq, entry)),
            )
            .exec_without_returning(db)
            .await?;
        }
        Ok(())
    }

    /// What the case's clocks depend on.
    pub fn facts(&self) -> CaseFacts {
        CaseFacts {
            notice_owed: notice_is_owed(
                self.row.anonymous,
                self.row.address_unknown,
                UnitKind::from_code(&self.row.unit_kind),
                LegalTrack::from_code(&self.row.track),
            ),
        }
    }

    pub fn unit_path(&self) -> Vec<String> {
        xinfang_platform::auth::unit_path_of(&self.row.unit_path)
    }
}

/// Art 23: the unit that receives a case tells the petitioner in writing — not when name or
/// address is unknown (nobody to tell); not for an accusation the discipline commission
/// handles, nor a litigation matter a political-legal organ handles (their own procedures,
/// by the matter *and* the organ: an appeal about police conduct sent to the police is
/// owed a notice like any other); not for a matter diverted to a statutory channel (it gets
/// the diversion notice instead).
pub fn notice_is_owed(
    anonymous: bool,
    address_unknown: bool,
    unit_kind: Option<UnitKind>,
    track: Option<LegalTrack>,
) -> bool {
    let nobody_to_tell = anonymous || address_unknown;
    let own_procedure = matches!(
        (unit_kind, track),
        (
            Some(UnitKind::DisciplineCommission),
            Some(LegalTrack::Accusation)
        ) | (
            Some(UnitKind::PoliticalLegal),
            Some(LegalTrack::StatutoryChannel)
        )
    );
    let diverted = track == Some(LegalTrack::StatutoryChannel);
    !(nobody_to_tell || own_procedure || diverted)
}

/// The stage's stored code.
pub fn stage_code(stage: Stage) -> &'static str {
    match stage {
        Stage::Registered => "registered",
        Stage::HeldForTriage => "held-for-triage",
        Stage::Diverted => "diverted",
        Stage::NotAcceptedFinal => "not-accepted-final",
        Stage::Linked => "linked",
        Stage::AwaitingSignFor => "awaiting-sign-for",
        Stage::SignedFor { .. } => "signed-for",
        Stage::ObjectionPending { .. } => "objection-pending",
        Stage::Returned { .. } => "returned",
        Stage::Accepted { .. } => "accepted",
        Stage::Refused { .. } => "refused",
        Stage::Replied { .. } => "replied",
        Stage::Completed { .. } => "completed",
        Stage::UnderReview { .. } => "under-review",
        Stage::ReviewDecided { .. } => "review-decided",
        Stage::Reviewed { .. } => "reviewed",
        Stage::UnderReReview { .. } => "under-re-review",
        Stage::ReReviewDecided { .. } => "re-review-decided",
        Stage::Final { .. } => "final",
    }
}

/// The stage's code for a protobuf stage, for the worklists' filter.
pub fn stage_code_of_proto(stage: xinfang_proto::v1::CaseStage) -> Option<&'static str> {
    use xinfang_proto::v1::CaseStage as P;
    let day = Date::MIN;
    let stage = match stage {
        P::Unspecified => return None,
        P::Registered => Stage::Registered,
        P::HeldForTriage => Stage::HeldForTriage,
        P::Diverted => Stage::Diverted,
        P::NotAcceptedFinal => Stage::NotAcceptedFinal,
        P::Linked => Stage::Linked,
        P::AwaitingSignFor => Stage::AwaitingSignFor,
        P::SignedFor => Stage::SignedFor { on: day },
        P::ObjectionPending => Stage::ObjectionPending {
            signed_for_on: day,
            objected_on: day,
        },
        P::Returned => Stage::Returned { on: day },
        P::Accepted => Stage::Accepted {
            on: day,
            extended_by: None,
        },
        P::Refused => Stage::Refused { on: day },
        P::Replied => Stage::Replied { on: day },
        P::Completed => Stage::Completed { served_on: day },
        P::UnderReview => Stage::UnderReview { requested_on: day },
        P::ReviewDecided => Stage::ReviewDecided { on: day },
        P::Reviewed => Stage::Reviewed { served_on: day },
        P::UnderReReview => Stage::UnderReReview {
            requested_on: day,
            hearing_since: None,
        },
        P::ReReviewDecided => Stage::ReReviewDecided { on: day },
        P::Final => Stage::Final { served_on: day },
    };
    Some(stage_code(stage))
}

/// The protobuf stage of a stored stage code (a step's stage after it).
pub fn stage_proto_of_code(code: &str) -> xinfang_proto::v1::CaseStage {
    use xinfang_proto::v1::CaseStage as P;
    let all = [
        P::Registered,
        P::HeldForTriage,
        P::Diverted,
        P::NotAcceptedFinal,
        P::Linked,
        P::AwaitingSignFor,
        P::SignedFor,
        P::ObjectionPending,
        P::Returned,
        P::Accepted,
        P::Refused,
        P::Replied,
        P::Completed,
        P::UnderReview,
        P::ReviewDecided,
        P::Reviewed,
        P::UnderReReview,
        P::ReReviewDecided,
        P::Final,
    ];
    all.into_iter()
        .find(|stage| stage_code_of_proto(*stage) == Some(code))
        .unwrap_or(P::Unspecified)
}

/// The day the case entered its stage: a later step cannot have happened before it.
pub fn stage_day(stage: Stage) -> Option<Date> {
    match stage {
        Stage::Registered
        | Stage::HeldForTriage
        | Stage::Diverted
        | Stage::NotAcceptedFinal
        | Stage::Linked
        | Stage::AwaitingSignFor => None,
        Stage::SignedFor { on }
        | Stage::ObjectionPending {
            objected_on: on, ..
        }
        | Stage::Returned { on }
        | Stage::Accepted { on, .. }
        | Stage::Refused { on }
        | Stage::Replied { on }
        | Stage::Completed { served_on: on }
        | Stage::UnderReview { requested_on: on }
        | Stage::ReviewDecided { on }
        | Stage::Reviewed { served_on: on }
        | Stage::ReReviewDecided { on }
        | Stage::Final { served_on: on } => Some(on),
        Stage::UnderReReview {
            requested_on,
            hearing_since,
        } => Some(hearing_since.unwrap_or(requested_on)),
    }
}

fn set_stage(row: &mut case::Model, stage: Stage) {
    row.stage = stage_code(stage).to_owned();
    row.stage_since = None;
    row.extended_by = None;
    row.hearing_since = None;
    row.stage_on = stage_day(stage);
    match stage {
        Stage::ObjectionPending { signed_for_on, .. } => row.stage_since = Some(signed_for_on),
        Stage::Accepted { extended_by, .. } => row.extended_by = extended_by.map(i32::from),
        Stage::UnderReReview {
            requested_on,
            hearing_since,
        } => {
            row.stage_on = Some(requested_on);
            row.hearing_since = hearing_since;
        }
        _ => {}
    }
}

fn stage_of(row: &case::Model) -> Result<Stage, DbErr> {
    let on = || {
        row.stage_on
            .ok_or_else(|| corrupt(format!("stage {} without its day", row.stage)))
    };
    Ok(match row.stage.as_str() {
        "registered" => Stage::Registered,
        "held-for-triage" => Stage::HeldForTriage,
        "diverted" => Stage::Diverted,
        "not-accepted-final" => Stage::NotAcceptedFinal,
        "linked" => Stage::Linked,
        "awaiting-sign-for" => Stage::AwaitingSignFor,
        "signed-for" => Stage::SignedFor { on: on()? },
        "objection-pending" => Stage::ObjectionPending {
            signed_for_on: row
                .stage_since
                .ok_or_else(|| corrupt("objection without sign-for".into()))?,
            objected_on: on()?,
        },
        "returned" => Stage::Returned { on: on()? },
        "accepted" => Stage::Accepted {
            on: on()?,
            extended_by: row
                .extended_by
                .map(|days| u16::try_from(days).map_err(|_| corrupt(format!("extension {days}"))))
                .transpose()?,
        },
        "refused" => Stage::Refused { on: on()? },
        "replied" => Stage::Replied { on: on()? },
        "completed" => Stage::Completed { served_on: on()? },
        "under-review" => Stage::UnderReview {
            requested_on: on()?,
        },
        "review-decided" => Stage::ReviewDecided { on: on()? },
        "reviewed" => Stage::Reviewed { served_on: on()? },
        "under-re-review" => Stage::UnderReReview {
            requested_on: on()?,
            hearing_since: row.hearing_since,
        },
        "re-review-decided" => Stage::ReReviewDecided { on: on()? },
        "final" => Stage::Final { served_on: on()? },
        other => return Err(corrupt(format!("unknown stage {other:?}"))),
    })
}

fn days(value: i32, what: &str) -> Result<u16, DbErr> {
    u16::try_from(value).map_err(|_| corrupt(format!("{what} {value}")))
}

fn entry_of(row: &clock::Model) -> Result<LedgerEntry, DbErr> {
    let clock =
        Clock::from_code(&row.kind).ok_or_else(|| corrupt(format!("kind {:?}", row.kind)))?;
    let span = match row.span.as_str() {
        "calendar" => Span::CalendarDays(days(row.span_days, "span")?),
        "working" => Span::WorkingDays(days(row.span_days, "span")?),
        "fixed" => Span::SetDay(row.due_day),
        other => return Err(corrupt(format!("span {other:?}"))),
    };
    Ok(LedgerEntry {
        clock,
        reference: row.reference.clone(),
        basis: row.basis.clone(),
        start_event: row.start_event.clone(),
        start: row.start_day,
        rule: DeadlineRule {
            span,
            roll_forward_from_rest_day: row.roll_forward,
        },
        extended_by: days(row.extended_by, "extension")?,
        extension: row.extension_told_on.map(|told| ExtensionNote {
            approved_by: row.extension_approved_by.clone(),
            reason: row.extension_reason.clone(),
            petitioner_told_on: told,
        }),
        paused_days: days(row.paused_days, "pause")?,
        paused_since: row.paused_since,
        due: row.due_day,
        provisional: row.provisional,
        calendar_version: row.calendar_version.clone(),
        met_on: row.met_on,
        closed_on: row.closed_on,
    })
}

fn row_of(case_id: Uuid, seq: usize, entry: &LedgerEntry) -> clock::ActiveModel {
    let (span, span_days) = match entry.rule.span {
        Span::CalendarDays(days) => ("calendar", i32::from(days)),
        Span::WorkingDays(days) => ("working", i32::from(days)),
        Span::SetDay(_) => ("fixed", 0),
    };
    let extension = entry.extension.as_ref();
    clock::ActiveModel {
        case_id: Set(case_id),
        seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
        kind: Set(entry.clock.code().to_owned()),
        reference: Set(entry.reference.clone()),
        basis: Set(entry.basis.clone()),
        start_event: Set(entry.start_event.clone()),
        start_day: Set(entry.start),
        span: Set(span.to_owned()),
        span_days: Set(span_days),
        roll_forward: Set(entry.rule.roll_forward_from_rest_day),
        extended_by: Set(i32::from(entry.extended_by)),
        extension_reason: Set(extension.map(|e| e.reason.clone()).unwrap_or_default()),
        extension_approved_by: Set(extension.map(|e| e.approved_by.clone()).unwrap_or_default()),
        extension_told_on: Set(extension.map(|e| e.petitioner_told_on)),
        paused_days: Set(i32::from(entry.paused_days)),
        paused_since: Set(entry.paused_since),
        due_day: Set(entry.due),
        provisional: Set(entry.provisional),
        calendar_version: Set(entry.calendar_version.clone()),
        met_on: Set(entry.met_on),
        closed_on: Set(entry.closed_on),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_notice_is_owed_when_nobody_can_be_told() {
        let appeal = Some(LegalTrack::Appeal);
        let town = Some(UnitKind::Town);
        assert!(notice_is_owed(false, false, town, appeal));
        assert!(!notice_is_owed(true, false, town, appeal), "anonymous");
        assert!(
            !notice_is_owed(false, true, town, appeal),
            "address unknown"
        );
    }

    #[test]
    fn an_accusation_the_discipline_commission_handles_follows_its_own_procedure() {
        let accusation = Some(LegalTrack::Accusation);
        let commission = Some(UnitKind::DisciplineCommission);
        assert!(!notice_is_owed(false, false, commission, accusation));
        // An accusation sent to the organ with authority over the accused, not the
        // discipline commission: the petitioner is told like any other.
        assert!(notice_is_owed(
            false,
            false,
            Some(UnitKind::Department),
            accusation
        ));
        // A suggestion the commission studies is not an accusation: told.
        assert!(notice_is_owed(
            false,
            false,
            commission,
            Some(LegalTrack::Suggestion)
        ));
    }

    #[test]
    fn a_political_legal_organ_owes_a_notice_unless_the_matter_is_litigation() {
        let police = Some(UnitKind::PoliticalLegal);
        assert!(notice_is_owed(
            false,
            false,
            police,
            Some(LegalTrack::Appeal)
        ));
        assert!(!notice_is_owed(
            false,
            false,
            police,
            Some(LegalTrack::StatutoryChannel)
        ));
    }

    #[test]
    fn a_diverted_matter_gets_the_diversion_notice_instead() {
        assert!(!notice_is_owed(
            false,
            false,
            Some(UnitKind::StatutoryBody),
            Some(LegalTrack::StatutoryChannel)
        ));
    }

    #[test]
    fn every_stage_reads_back_from_its_stored_columns() {
        let day = time::macros::date!(2026 - 03 - 02);
        let later = time::macros::date!(2026 - 03 - 09);
        let stages = [
            Stage::Registered,
            Stage::HeldForTriage,
            Stage::Diverted,
            Stage::NotAcceptedFinal,
            Stage::Linked,
            Stage::AwaitingSignFor,
            Stage::SignedFor { on: day },
            Stage::ObjectionPending {
                signed_for_on: day,
                objected_on: later,
            },
            Stage::Returned { on: day },
            Stage::Accepted {
                on: day,
                extended_by: Some(20),
            },
            Stage::Accepted {
                on: day,
                extended_by: None,
            },
            Stage::Refused { on: day },
            Stage::Replied { on: day },
            Stage::Completed { served_on: day },
            Stage::UnderReview { requested_on: day },
            Stage::ReviewDecided { on: day },
            Stage::Reviewed { served_on: day },
            Stage::UnderReReview {
                requested_on: day,
                hearing_since: Some(later),
            },
            Stage::UnderReReview {
                requested_on: day,
                hearing_since: None,
            },
            Stage::ReReviewDecided { on: day },
            Stage::Final { served_on: day },
        ];
        for stage in stages {
            let mut row = sample_row();
            set_stage(&mut row, stage);
            assert_eq!(stage_of(&row).ok(), Some(stage));
            assert_eq!(
                stage_code_of_proto(stage.to_proto()),
                Some(stage_code(stage))
            );
        }
    }

    fn sample_row() -> case::Model {
        let at = time::macros::datetime!(2026-03-02 09:00 UTC);
        case::Model {
            case_id: Uuid::nil(),
            case_number: "X".into(),
            received_at: at,
            anonymous: false,
            address_unknown: false,
            unit_code: String::new(),
            unit_path: String::new(),
            unit_kind: String::new(),
            disposition: String::new(),
            track: String::new(),
            routed_at: None,
            opened_at: at,
            stage: String::new(),
            stage_on: None,
            stage_since: None,
            extended_by: None,
            hearing_since: None,
            evaluation: String::new(),
            follow_up: false,
            routing_revision: 0,
            updated_at: at,
            linked_into_case_number: None,
        }
    }
}
