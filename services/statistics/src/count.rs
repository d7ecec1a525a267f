//! Statistics' consumers: every event fills in its part of the case's row of facts. One
//! handler serves the three streams; each stream has its own durable consumer.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait, NotSet};
use time::OffsetDateTime;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::wire;
use xinfang_proto::Event;
use xinfang_proto::v1::{Channel, PetitionRegistered, PetitionRouted, SourceLevel, TimelineOpened};

use crate::store::case_fact::{self, Column};

pub const SERVICE: &str = "statistics";

pub struct CountCases;

/// The facts one event contributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseEvent {
    Registered {
        case_number: String,
        channel: Channel,
        source_level: SourceLevel,
        registered_at: OffsetDateTime,
    },
    Routed {
        case_number: String,
        unit_code: String,
        routed_at: OffsetDateTime,
    },
    /// Carries the unit too: the timeline may arrive before the routing decision.
    Supervised {
        case_number: String,
        unit_code: String,
        opened_at: OffsetDateTime,
    },
}

fn time_of(at: Option<&prost_types::Timestamp>, field: &str) -> Result<OffsetDateTime, String> {
    wire::from_timestamp(at).map_err(|why| format!("{field} {why}"))
}

impl Handler for CountCases {
    type Event = CaseEvent;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<CaseEvent, String> {
        match envelope.event_type.as_str() {
            PetitionRegistered::TYPE => {
                let event: PetitionRegistered = decode_event(envelope, payload)?;
                event_case_id(&event.case_id, envelope)?;
                Ok(CaseEvent::Registered {
                    channel: Channel::try_from(event.channel).unwrap_or_default(),
                    source_level: event
                        .source
                        .and_then(|source| SourceLevel::try_from(source.level).ok())
                        .unwrap_or_default(),
                    registered_at: time_of(event.registered_at.as_ref(), "registered_at")?,
                    case_number: event.case_number,
                })
            }
            PetitionRouted::TYPE => {
                let event: PetitionRouted = decode_event(envelope, payload)?;
                event_case_id(&event.case_id, envelope)?;
                Ok(CaseEvent::Routed {
                    routed_at: time_of(event.routed_at.as_ref(), "routed_at")?,
                    case_number: event.case_number,
                    unit_code: event.unit_code,
                })
            }
            TimelineOpened::TYPE => {
                let event: TimelineOpened = decode_event(envelope, payload)?;
                event_case_id(&event.case_id, envelope)?;
                Ok(CaseEvent::Supervised {
                    opened_at: time_of(event.opened_at.as_ref(), "opened_at")?,
                    case_number: event.case_number,
                    unit_code: event.unit_code,
                })
            }
            other => Err(format!("unknown event type {other}")),
        }
    }

    async fn apply(
        &self,
        transaction: &DatabaseTransaction,
        envelope: &Envelope,
        event: CaseEvent,
    ) -> Result<Vec<OutgoingEvent>, Failure> {
        let mut row = case_fact::ActiveModel {
            case_id: Set(envelope.case_id),
            case_number: NotSet,
            channel: NotSet,
            source_level: NotSet,
            registered_at: NotSet,
            unit_code: NotSet,
            routed_at: NotSet,
            supervised_at: NotSet,
        };
        // Only the columns this event knows are written, so events may come in any order.
        let columns = match event {
            CaseEvent::Registered {
                case_number,
                channel,
                source_level,
                registered_at,
            } => {
                row.case_number = Set(case_number);
                row.channel = Set(Some(channel.as_str_name().to_owned()));
                row.source_level = Set(Some(source_level.as_str_name().to_owned()));
                row.registered_at = Set(Some(registered_at));
                vec![Column::Channel, Column::SourceLevel, Column::RegisteredAt]
            }
            CaseEvent::Routed {
                case_number,
                unit_code,
                routed_at,
            } => {
                row.case_number = Set(case_number);
                row.unit_code = Set(Some(unit_code));
                row.routed_at = Set(Some(routed_at));
                vec![Column::UnitCode, Column::RoutedAt]
            }
            CaseEvent::Supervised {
                case_number,
                unit_code,
                opened_at,
            } => {
                row.case_number = Set(case_number);
                row.unit_code = Set(Some(unit_code));
                row.supervised_at = Set(Some(opened_at));
                vec![Column::UnitCode, Column::SupervisedAt]
            }
        };
        case_fact::Entity::insert(row)
            .on_conflict(
                OnConflict::column(Column::CaseId)
                    .update_columns(columns)
                    .to_owned(),
            )
            .exec_without_returning(transaction)
            .await?;
        Ok(Vec::new())
    }
}
