//! Letters (DOMAIN.md, "Supervision"): numbered documents about a case, each with a
//! recipient, a text from its kind's template and its own reply deadline on the case's
//! ledger. Numbers are gap-free per year and kind: drawn in the transaction that issues the
//! letter, so a letter that is not issued gives its number back.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr, IdenStatic};
use time::{Date, OffsetDateTime};
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::wire;
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{self as api, LetterIssued};

use crate::calendar::HolidayCalendar;
use crate::case_record::CaseRecord;
use crate::deadlines::{DeadlineRule, start_day};
use crate::lifecycle::Clock;
use crate::routed::SERVICE;
use crate::store::{letter, letter_sequence};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LetterKind {
    /// 交办函
    Assignment,
    /// 提醒函
    Reminder,
    /// 预警函
    Warning,
    /// 督办函
    Supervision,
}

impl LetterKind {
    pub const ALL: [LetterKind; 4] = [
        LetterKind::Assignment,
        LetterKind::Reminder,
        LetterKind::Warning,
        LetterKind::Supervision,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LetterKind::Assignment => "assignment",
            LetterKind::Reminder => "reminder",
            LetterKind::Warning => "warning",
            LetterKind::Supervision => "supervision",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// The character the number pattern's `{kind}` stands for (兴信**督**〔2026〕12号).
    pub fn mark(self) -> &'static str {
        match self {
            LetterKind::Assignment => "交",
            LetterKind::Reminder => "提",
            LetterKind::Warning => "警",
            LetterKind::Supervision => "督",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            LetterKind::Assignment => "交办函",
            LetterKind::Reminder => "提醒函",
            LetterKind::Warning => "预警函",
            LetterKind::Supervision => "督办函",
        }
    }

    pub fn to_proto(self) -> api::LetterKind {
        match self {
            LetterKind::Assignment => api::LetterKind::Assignment,
            LetterKind::Reminder => api::LetterKind::Reminder,
            LetterKind::Warning => api::LetterKind::Warning,
            LetterKind::Supervision => api::LetterKind::Supervision,
        }
    }

    pub fn from_proto(value: i32) -> Result<Self, &'static str> {
        match api::LetterKind::try_from(value) {
            Ok(api::LetterKind::Assignment) => Ok(LetterKind::Assignment),
            Ok(api::LetterKind::Reminder) => Ok(LetterKind::Reminder),
            Ok(api::LetterKind::Warning) => Ok(LetterKind::Warning),
            Ok(api::LetterKind::Supervision) => Ok(LetterKind::Supervision),
            Ok(api::LetterKind::Unspecified) => Err("is required"),
            Err(_) => Err("is not a known letter kind"),
        }
    }
}

/// How letters are numbered and how long their recipients have to reply (practice, not
/// law: configurable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterSettings {
    /// `{kind}`, `{year}` and `{serial}` are replaced: `兴信{kind}〔{year}〕{serial}号`.
    pub number_pattern: String,
    pub reminder_reply_days: u16,
    pub warning_reply_days: u16,
    pub supervision_reply_days: u16,
    /// The deadline an assignment letter sets for the result.
    pub assignment_days: u16,
}

impl LetterSettings {
    pub fn reply_days(&self, kind: LetterKind) -> u16 {
        match kind {
            LetterKind::Assignment => self.assignment_days,
            LetterKind::Reminder => self.reminder_reply_days,
            LetterKind::Warning => self.warning_reply_days,
            LetterKind::Supervision => self.supervision_reply_days,
        }
    }

    /// A pattern must name the kind, the year and the serial, or two letters could share
    /// a number.
    pub fn check(&self) -> Result<(), String> {
        for part in ["{kind}", "{year}", "{serial}"] {
            if !self.number_pattern.contains(part) {
                return Err(format!(
                    "letter number pattern {:?} lacks {part}",
                    self.number_pattern
                ));
            }
        }
        Ok(())
    }

    pub fn number(&self, kind: LetterKind, year: i32, serial: i32) -> String {
        self.number_pattern
            .replace("{kind}", kind.mark())
            .replace("{year}", &year.to_string())
            .replace("{serial}", &serial.to_string())
    }
}

/// Draws the next number of `kind` in `year`, inside the caller's transaction: the counter
/// row stays locked until it commits, and rolls back with it.
pub async fn next_serial<C: ConnectionTrait>(
    db: &C,
    kind: LetterKind,
    year: i32,
) -> Result<i32, DbErr> {
    use letter_sequence::Column;
    let upsert = Query::insert()
        .into_table(letter_sequence::Entity)
        .columns([Column::Kind, Column::Year, Column::Last])
        .values_panic([kind.code().into(), year.into(), 1i32.into()])
        .on_conflict(
            OnConflict::columns([Column::Kind, Column::Year])
                .value(
                    Column::Last,
                    Expr::col((letter_sequence::Entity, Column::Last)).add(1),
                )
                .to_owned(),
        )
        .returning_col(Column::Last)
        .to_owned();
    let statement = db.get_database_backend().build(&upsert);
    let row = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("letter sequence".into()))?;
    row.try_get("", Column::Last.as_str())
}

/// The year a letter issued at `now` is numbered in (China Standard Time).
pub fn letter_year(now: OffsetDateTime) -> i32 {
    start_day(now).year()
}

/// The kind's template, filled in.
pub fn template(
    kind: LetterKind,
    case: &CaseRecord,
    about: &str,
    due: Option<Date>,
    reply_due: Date,
) -> String {
    let unit = &case.row.unit_code;
    let number = &case.row.case_number;
    let due = due.map(|d| format!("，期限为{d}")).unwrap_or_default();
    match kind {
        LetterKind::Assignment => format!(
            "{unit}：现将{number}号信访事项交由你单位办理，请依法按政策处理，并于{reply_due}前将办理结果书面报告我局。"
        ),
        LetterKind::Reminder => format!(
            "{unit}：你单位办理的{number}号信访事项（{about}{due}）即将到期，请抓紧办理，并于{reply_due}前书面回复。"
        ),
        LetterKind::Warning => format!(
            "{unit}：你单位办理的{number}号信访事项（{about}{due}）已逾期，请立即办理，并于{reply_due}前书面说明情况。"
        ),
        LetterKind::Supervision => format!(
            "{unit}：你单位办理的{number}号信访事项（{about}{due}）逾期未办，现予督办，请于{reply_due}前办结并书面回复办理结果（《信访工作条例》第四十条）。"
        ),
    }
}

/// What a clock is called in a letter.
pub fn clock_name(clock: Clock) -> &'static str {
    match clock {
        Clock::Forward => "转送交办",
        Clock::NoticeOfReceipt => "书面告知",
        Clock::Objection => "异议",
        Clock::Handling => "办理",
        Clock::ReviewRequest => "复查申请",
        Clock::ReviewDecision => "复查",
        Clock::ReReviewRequest => "复核申请",
        Clock::ReReviewDecision => "复核",
        Clock::Upstream => "上级交办期限",
        Clock::Assignment => "交办期限",
        Clock::LetterReply => "函件回复",
    }
}

/// A letter the bureau issues on a case, ready to store.
pub struct Issued {
    pub letter: letter::Model,
    pub event: OutgoingEvent,
}

/// Issues a letter of `kind` to the case's unit: numbered with `serial`, its reply deadline
/// (or, for an assignment, the result's deadline) opened on the case's ledger.
#[allow(clippy::too_many_arguments)]
pub fn issue(
    case: &mut CaseRecord,
    kind: LetterKind,
    (year, serial): (i32, i32),
    text: Option<String>,
    reply: DeadlineRule,
    issued_by: &str,
    settings: &LetterSettings,
    calendar: &HolidayCalendar,
    now: OffsetDateTime,
    about: Option<(Clock, Date)>,
) -> Issued {
    let number = settings.number(kind, year, serial);
    let today = start_day(now);
    let clock = match kind {
        LetterKind::Assignment => Clock::Assignment,
        _ => Clock::LetterReply,
    };
    case.ledger
        .open_entry(clock, number.clone(), today, reply, calendar);
    let reply_due = case.ledger.entries.last().map_or(today, |entry| entry.due);
    if let Some(entry) = case.ledger.entries.last_mut() {
        entry.start_event = format!("{} {number}", kind.title());
    }
    let text = text.unwrap_or_else(|| {
        let (what, due) = about.map_or(("", None), |(clock, due)| (clock_name(clock), Some(due)));
        template(kind, case, what, due, reply_due)
    });
    let letter = letter::Model {
        number,
        kind: kind.code().to_owned(),
        year,
        serial: Some(serial),
        case_id: case.row.case_id,
        recipient_unit: case.row.unit_code.clone(),
        issuer: String::new(),
        text,
        issued_at: now,
        issued_by: issued_by.to_owned(),
        request_id: None,
        reply_due: Some(reply_due),
        replied_on: None,
        reply: String::new(),
        from_upstream: false,
    };
    let event = OutgoingEvent::new(
        subjects::letter_issued(&case.row.unit_code),
        SERVICE,
        case.row.case_id,
        now,
        &LetterIssued {
            // The number, kind, recipient and deadline; the text (which a supervisor may
            // write by hand) is read over gRPC.
            letter: Some(api::Letter {
                text: String::new(),
                ..view(&letter, &case.row.case_number)
            }),
        },
    );
    Issued { letter, event }
}

pub fn view(letter: &letter::Model, case_number: &str) -> api::Letter {
    api::Letter {
        number: letter.number.clone(),
        kind: LetterKind::from_code(&letter.kind)
            .map(|kind| kind.to_proto().into())
            .unwrap_or_default(),
        case_id: letter.case_id.to_string(),
        case_number: case_number.to_owned(),
        recipient_unit: letter.recipient_unit.clone(),
        issuer: letter.issuer.clone(),
        text: letter.text.clone(),
        issued_at: Some(wire::timestamp(letter.issued_at)),
        issued_by: letter.issued_by.clone(),
        reply_due: letter.reply_due.map(wire::calendar_date),
        replied_on: letter.replied_on.map(wire::calendar_date),
        reply: letter.reply.clone(),
        from_upstream: letter.from_upstream,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_follows_the_configured_pattern() {
        let settings = LetterSettings {
            number_pattern: "兴信{kind}〔{year}〕{serial}号".into(),
            reminder_reply_days: 5,
            warning_reply_days: 5,
            supervision_reply_days: 10,
            assignment_days: 30,
        };
        assert_eq!(
            settings.number(LetterKind::Supervision, 2026, 12),
            "兴信督〔2026〕12号"
        );
        assert_eq!(
            settings.number(LetterKind::Assignment, 2027, 1),
            "兴信交〔2027〕1号"
        );
    }

    #[test]
    fn a_pattern_without_the_serial_is_refused() {
        let settings = LetterSettings {
            number_pattern: "兴信{kind}〔{year}〕号".into(),
            reminder_reply_days: 5,
            warning_reply_days: 5,
            supervision_reply_days: 10,
            assignment_days: 30,
        };
        assert!(settings.check().is_err());
    }

    #[test]
    fn every_kind_reads_back_from_its_code_and_its_protobuf_value() {
        for kind in LetterKind::ALL {
            assert_eq!(LetterKind::from_code(kind.code()), Some(kind));
            assert_eq!(LetterKind::from_proto(kind.to_proto().into()), Ok(kind));
        }
        assert_eq!(LetterKind::from_proto(0), Err("is required"));
    }
}
