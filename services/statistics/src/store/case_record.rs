//! A case's record as folded from its facts (`record::CaseRecord`), one row per case,
//! replaced whenever a fact about it arrives. Codes are the vocabulary's; lists are stored
//! as `/a/b/`.

use sea_orm::entity::prelude::*;
use xinfang_platform::auth::{stored_unit_path, unit_path_of};
use xinfang_proto::v1::Evaluation;
use xinfang_proto::vocabulary::{Channel, EscalatedTo, LegalTrack, SourceLevel};

use crate::record::{CaseRecord, Duty};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_record")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    pub case_number: String,
    pub registered_on: Option<TimeDate>,
    pub channel: Option<String>,
    pub sources: String,
    pub territory_code: Option<String>,
    pub matter_category: Option<String>,
    pub people: i64,
    pub collective: bool,
    pub skip_level: bool,
    pub first_time: bool,
    pub repeat_of: Option<Uuid>,
    pub linked_into: Option<Uuid>,
    pub escalated_to: Option<String>,
    pub unit_code: Option<String>,
    pub lead_path: String,
    pub track: Option<String>,
    pub wrongly_routed_to: String,
    pub diverted: bool,
    pub assigned: bool,
    pub supervised: bool,
    pub timeline_opened: bool,
    pub done_on: Option<TimeDate>,
    pub open_duty_due: Option<TimeDate>,
    pub acceptance_due: Option<TimeDate>,
    pub accepted_on: Option<TimeDate>,
    pub acceptance_closed: bool,
    pub handling_due: Option<TimeDate>,
    /// The day the unit accepted the case (受理); `accepted_on` above is the notice's day.
    pub accepted_step_on: Option<TimeDate>,
    pub replied_on: Option<TimeDate>,
    pub completed_on: Option<TimeDate>,
    pub evaluation: Option<i32>,
    pub evaluated_on: Option<TimeDate>,
    pub repeated_on: Option<TimeDate>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

fn codes<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    stored_unit_path(&codes.map(str::to_owned).collect::<Vec<_>>())
}

impl From<&CaseRecord> for Model {
    fn from(r: &CaseRecord) -> Self {
        Model {
            case_id: r.case_id,
            case_number: r.case_number.clone(),
            registered_on: r.registered_on,
            channel: r.channel.map(|c| c.code().to_owned()),
            sources: codes(r.sources.iter().map(|s| s.code())),
            territory_code: r.territory_code.clone(),
            matter_category: r.matter_category.clone(),
            people: i64::from(r.people),
            collective: r.collective,
            skip_level: r.skip_level,
            first_time: r.first_time,
            repeat_of: r.repeat_of,
            linked_into: r.linked_into,
            escalated_to: r.escalated_to.map(|e| e.code().to_owned()),
            unit_code: r.unit_code.clone(),
            lead_path: stored_unit_path(&r.lead_path),
            track: r.track.map(|t| t.code().to_owned()),
            wrongly_routed_to: stored_unit_path(&r.wrongly_routed_to),
            diverted: r.diverted,
            assigned: r.assigned,
            supervised: r.supervised,
            timeline_opened: r.timeline_opened,
            done_on: r.done_on,
            open_duty_due: r.open_duty_due,
            acceptance_due: r.acceptance.map(|d| d.due),
            accepted_on: r.acceptance.and_then(|d| d.met_on),
            acceptance_closed: r.acceptance.is_some_and(|d| d.closed),
            handling_due: r.handling_due,
            accepted_step_on: r.accepted_on,
            replied_on: r.replied_on,
            completed_on: r.completed_on,
            evaluation: r.evaluation.map(|e| e as i32),
            evaluated_on: r.evaluated_on,
            repeated_on: r.repeated_on,
        }
    }
}

impl From<Model> for CaseRecord {
    fn from(m: Model) -> Self {
        CaseRecord {
            case_id: m.case_id,
            case_number: m.case_number,
            registered_on: m.registered_on,
            channel: m.channel.as_deref().and_then(Channel::from_code),
            sources: unit_path_of(&m.sources)
                .iter()
                .filter_map(|s| SourceLevel::from_code(s))
                .collect(),
            territory_code: m.territory_code,
            matter_category: m.matter_category,
            people: u32::try_from(m.people).unwrap_or(1),
            collective: m.collective,
            skip_level: m.skip_level,
            first_time: m.first_time,
            repeat_of: m.repeat_of,
            linked_into: m.linked_into,
            escalated_to: m.escalated_to.as_deref().and_then(EscalatedTo::from_code),
            unit_code: m.unit_code,
            lead_path: unit_path_of(&m.lead_path),
            track: m.track.as_deref().and_then(LegalTrack::from_code),
            wrongly_routed_to: unit_path_of(&m.wrongly_routed_to),
            diverted: m.diverted,
            assigned: m.assigned,
            supervised: m.supervised,
            timeline_opened: m.timeline_opened,
            done_on: m.done_on,
            open_duty_due: m.open_duty_due,
            acceptance: m.acceptance_due.map(|due| Duty {
                due,
                met_on: m.accepted_on,
                closed: m.acceptance_closed,
            }),
            handling_due: m.handling_due,
            accepted_on: m.accepted_step_on,
            replied_on: m.replied_on,
            completed_on: m.completed_on,
            evaluation: m.evaluation.and_then(|e| Evaluation::try_from(e).ok()),
            evaluated_on: m.evaluated_on,
            repeated_on: m.repeated_on,
        }
    }
}
