//! The case's procedure: a case from registration on (not only once routed), its stage,
//! every legal clock it carries (several of one kind: two higher bureaus' deadlines, each
//! letter's reply), and the history of what was done, idempotent on the request id. The
//! timelines and deadlines stored before are carried over.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SupervisedCase {
    Table,
    CaseId,
    CaseNumber,
    ReceivedAt,
    Anonymous,
    AddressUnknown,
    UnitCode,
    UnitPath,
    UnitKind,
    Disposition,
    Track,
    RoutedAt,
    OpenedAt,
    Stage,
    StageOn,
    StageSince,
    ExtendedBy,
    HearingSince,
    Evaluation,
    FollowUp,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseClock {
    Table,
    CaseId,
    Seq,
    Kind,
    Reference,
    Basis,
    StartEvent,
    StartDay,
    Span,
    SpanDays,
    RollForward,
    ExtendedBy,
    ExtensionReason,
    ExtensionApprovedBy,
    ExtensionToldOn,
    PausedDays,
    PausedSince,
    DueDay,
    Provisional,
    CalendarVersion,
    MetOn,
    ClosedOn,
}

#[derive(DeriveIden)]
enum CaseStep {
    Table,
    RequestId,
    Fingerprint,
    CaseId,
    Action,
    Details,
    Actor,
    OccurredOn,
    RecordedAt,
    StageAfter,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupervisedCase::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(SupervisedCase::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SupervisedCase::CaseNumber)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisedCase::ReceivedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisedCase::Anonymous)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisedCase::AddressUnknown)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupervisedCase::UnitCode).string().not_null())
                    .col(ColumnDef::new(SupervisedCase::UnitPath).string().not_null())
                    .col(ColumnDef::new(SupervisedCase::UnitKind).string().not_null())
                    .col(
                        ColumnDef::new(SupervisedCase::Disposition)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupervisedCase::Track).string().not_null())
                    .col(ColumnDef::new(SupervisedCase::RoutedAt).timestamp_with_time_zone())
                    .col(
                        ColumnDef::new(SupervisedCase::OpenedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupervisedCase::Stage).string().not_null())
                    .col(ColumnDef::new(SupervisedCase::StageOn).date())
                    .col(ColumnDef::new(SupervisedCase::StageSince).date())
                    .col(ColumnDef::new(SupervisedCase::ExtendedBy).integer())
                    .col(ColumnDef::new(SupervisedCase::HearingSince).date())
                    .col(
                        ColumnDef::new(SupervisedCase::Evaluation)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisedCase::FollowUp)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisedCase::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("supervised_case_by_unit", SupervisedCase::UnitCode),
            ("supervised_case_by_stage", SupervisedCase::Stage),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(SupervisedCase::Table)
                        .col(column)
                        .col(SupervisedCase::CaseId)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CaseClock::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(CaseClock::CaseId).uuid().not_null())
                    .col(ColumnDef::new(CaseClock::Seq).integer().not_null())
                    .col(ColumnDef::new(CaseClock::Kind).string().not_null())
                    .col(ColumnDef::new(CaseClock::Reference).string().not_null())
                    .col(ColumnDef::new(CaseClock::Basis).string().not_null())
                    .col(ColumnDef::new(CaseClock::StartEvent).string().not_null())
                    .col(ColumnDef::new(CaseClock::StartDay).date().not_null())
                    .col(ColumnDef::new(CaseClock::Span).string().not_null())
                    .col(ColumnDef::new(CaseClock::SpanDays).integer().not_null())
                    .col(ColumnDef::new(CaseClock::RollForward).boolean().not_null())
                    .col(ColumnDef::new(CaseClock::ExtendedBy).integer().not_null())
                    .col(
                        ColumnDef::new(CaseClock::ExtensionReason)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CaseClock::ExtensionApprovedBy)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CaseClock::ExtensionToldOn).date())
                    .col(ColumnDef::new(CaseClock::PausedDays).integer().not_null())
                    .col(ColumnDef::new(CaseClock::PausedSince).date())
                    .col(ColumnDef::new(CaseClock::DueDay).date().not_null())
                    .col(ColumnDef::new(CaseClock::Provisional).boolean().not_null())
                    .col(
                        ColumnDef::new(CaseClock::CalendarVersion)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CaseClock::MetOn).date())
                    .col(ColumnDef::new(CaseClock::ClosedOn).date())
                    .primary_key(Index::create().col(CaseClock::CaseId).col(CaseClock::Seq))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseClock::Table, CaseClock::CaseId)
                            .to(SupervisedCase::Table, SupervisedCase::CaseId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("case_clock_by_due_day")
                    .table(CaseClock::Table)
                    .col(CaseClock::DueDay)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseStep::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CaseStep::RequestId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CaseStep::Fingerprint).binary().not_null())
                    .col(ColumnDef::new(CaseStep::CaseId).uuid().not_null())
                    .col(ColumnDef::new(CaseStep::Action).string().not_null())
                    .col(ColumnDef::new(CaseStep::Details).text().not_null())
                    .col(ColumnDef::new(CaseStep::Actor).string().not_null())
                    .col(ColumnDef::new(CaseStep::OccurredOn).date().not_null())
                    .col(
                        ColumnDef::new(CaseStep::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CaseStep::StageAfter).string().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("case_step_by_case")
                    .table(CaseStep::Table)
                    .col(CaseStep::CaseId)
                    .col(CaseStep::RecordedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        carry_over(manager).await
    }
}

/// The timelines opened before: each case awaits its unit's sign-for (or is held for
/// triage), with the deadlines it had.
async fn carry_over(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(
        "INSERT INTO supervised_case (case_id, case_number, received_at, anonymous, \
         address_unknown, unit_code, unit_path, unit_kind, disposition, track, routed_at, \
         opened_at, stage, evaluation, follow_up, updated_at) \
         SELECT case_id, case_number, received_at, anonymous, false, unit_code, unit_path, '', \
         disposition, track, routed_at, opened_at, \
         CASE disposition WHEN 'triage' THEN 'held-for-triage' ELSE 'awaiting-sign-for' END, \
         '', false, opened_at FROM case_timeline",
    )
    .await?;
    // The forward clock was met by the routing decision (unless the case waits for
    // triage); the notice clock an older build started at routing is dropped: it opens
    // again, rightly, at the unit's sign-for.
    let routed_day = match manager.get_database_backend() {
        sea_orm::DbBackend::Sqlite => "date(t.routed_at, '+8 hours')",
        _ => "CAST((t.routed_at AT TIME ZONE 'Asia/Shanghai') AS date)",
    };
    db.execute_unprepared(&format!(
        "INSERT INTO case_clock (case_id, seq, kind, reference, basis, start_event, start_day, \
         span, span_days, roll_forward, extended_by, extension_reason, extension_approved_by, \
         paused_days, due_day, provisional, calendar_version, met_on) \
         SELECT d.case_id, CASE d.kind WHEN 'forward' THEN 0 ELSE 1 END, d.kind, '', \
         CASE d.kind WHEN 'forward' THEN 'Art 22' ELSE 'set by the higher bureau' END, \
         'registered', d.start_day, CASE d.kind WHEN 'upstream' THEN 'fixed' ELSE 'calendar' END, \
         CASE d.kind WHEN 'upstream' THEN 0 ELSE 15 END, \
         CASE d.kind WHEN 'upstream' THEN false ELSE true END, 0, '', '', 0, d.due_day, \
         d.provisional, '', \
         CASE WHEN d.kind = 'forward' AND t.disposition <> 'triage' THEN {routed_day} END \
         FROM deadline d JOIN case_timeline t ON t.case_id = d.case_id \
         WHERE d.kind IN ('forward', 'upstream')"
    ))
    .await?;
    manager
        .drop_table(Table::drop().table(Alias::new("deadline")).to_owned())
        .await?;
    manager
        .drop_table(Table::drop().table(Alias::new("case_timeline")).to_owned())
        .await
}
