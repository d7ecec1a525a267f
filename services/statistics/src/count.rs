//! Statistics' consumers: every event fills in its part of the case's row of facts. One
//! handler serves the three streams; each stream has its own durable consumer.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, NotSet, QueryFilter,
};
use time::OffsetDateTime;
use xinfang_platform::consumer::{Failure, Handler, decode_event, event_case_id};
use xinfang_platform::envelope::Envelope;
use xinfang_platform::wire;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::Name;
use xinfang_proto::intake::v1::{PetitionCorrected, PetitionRegistered, UpstreamLinked};
use xinfang_proto::routing::v1::PetitionRouted;
use xinfang_proto::supervision::v1::TimelineOpened;
use xinfang_proto::vocabulary::{Channel, SourceLevel};

use crate::store::case_fact::{self, Column};
use crate::store::{case_source, wrong_routing};

pub const SERVICE: &str = "statistics";

pub struct CountCases;

/// The facts one event contributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseEvent {
    Registered {
        case_number: String,
        channel: Channel,
        source_level: SourceLevel,
        /// The higher bureau's reference; empty for a petition registered here.
        upstream_reference: String,
        registered_at: OffsetDateTime,
        territory_code: String,
        matter_category: String,
    },
    /// A clerk corrected the registration: the territory and category as they now stand.
    Corrected {
        case_number: String,
        revision: i32,
        territory_code: String,
        matter_category: String,
    },
    /// A petition linked into another case (the envelope's): that case now also came by
    /// the petition's source, and the petition is no case of its own.
    Linked {
        linked_case_id: uuid::Uuid,
        linked_case_number: String,
        source_level: SourceLevel,
        upstream_reference: String,
    },
    Routed {
        case_number: String,
        unit_code: String,
        routed_at: OffsetDateTime,
        /// Which decision of the case (1 for the first): the newest sets the unit.
        revision: i32,
        /// The unit this revision took the case from because the bureau upheld its
        /// objection: a wrong routing against it.
        wrongly_routed_to: Option<String>,
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
    type Change = RecordFacts;

    fn decode(&self, envelope: &Envelope, payload: &[u8]) -> Result<CaseEvent, String> {
        match envelope.event_type.as_str() {
            t if t == PetitionRegistered::full_name() => {
                let event: PetitionRegistered = decode_event(envelope, payload)?;
                event_case_id(&event.case_id, envelope)?;
                Ok(CaseEvent::Registered {
                    channel: Channel::from_proto(event.channel)
                        .map_err(|why| format!("channel {why}"))?,
                    source_level: SourceLevel::from_proto(
                        event.source.as_ref().map_or(0, |source| source.level),
                    )
                    .map_err(|why| format!("source.level {why}"))?,
                    upstream_reference: event
                        .source
                        .as_ref()
                        .map(|source| source.upstream_reference.clone())
                        .unwrap_or_default(),
                    registered_at: time_of(event.registered_at.as_ref(), "registered_at")?,
                    territory_code: event.territory_code,
                    matter_category: event.matter_category,
                    case_number: event.case_number,
                })
            }
            t if t == PetitionCorrected::full_name() => {
                let event: PetitionCorrected = decode_event(envelope, payload)?;
                event_case_id(&event.case_id, envelope)?;
                if event.revision == 0 {
                    return Err("revision is required".to_owned());
                }
                Ok(CaseEvent::Corrected {
                    revision: i32::try_from(event.revision)
                        .map_err(|_| format!("revision {} is out of range", event.revision))?,
                    case_number: event.case_number,
                    territory_code: event.territory_code,
                    matter_category: event.matter_category,
                })
            }
            t if t == UpstreamLinked::full_name() => {
                let event: UpstreamLinked = decode_event(envelope, payload)?;
                event_case_id(&event.case_id, envelope)?;
                let source = event.source.unwrap_or_default();
                let linked_case_id =
                    uuid::Uuid::parse_str(&event.linked_case_id).map_err(|_| {
                        format!("linked_case_id {:?} is not a UUID", event.linked_case_id)
                    })?;
                let source_level = SourceLevel::from_proto(source.level)
                    .map_err(|why| format!("source.level {why}"))?;
                if source_level == SourceLevel::Local || linked_case_id == envelope.case_id {
                    return Err(
                        "a linked petition comes from a higher bureau, into another case"
                            .to_owned(),
                    );
                }
                Ok(CaseEvent::Linked {
                    linked_case_id,
                    linked_case_number: event.linked_case_number,
                    source_level,
                    upstream_reference: source.upstream_reference,
                })
            }
            t if t == PetitionRouted::full_name() => {
                let event: PetitionRouted = decode_event(envelope, payload)?;
                event_case_id(&event.case_id, envelope)?;
                Ok(CaseEvent::Routed {
                    routed_at: time_of(event.routed_at.as_ref(), "routed_at")?,
                    revision: i32::try_from(std::cmp::max(event.revision, 1))
                        .map_err(|_| format!("revision {} is out of range", event.revision))?,
                    wrongly_routed_to: Some(event.previous_unit_code)
                        .filter(|unit| event.after_objection && !unit.is_empty()),
                    case_number: event.case_number,
                    unit_code: event.unit_code,
                })
            }
            t if t == TimelineOpened::full_name() => {
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

    fn change(&self, envelope: &Envelope, event: &CaseEvent) -> RecordFacts {
        RecordFacts {
            case_id: envelope.case_id,
            event: event.clone(),
        }
    }
}

/// Records that the case came by this source; again changes nothing.
async fn came_by(
    transaction: &DatabaseTransaction,
    case_id: uuid::Uuid,
    level: SourceLevel,
    reference: String,
) -> Result<(), Failure> {
    case_source::Entity::insert(case_source::ActiveModel {
        case_id: Set(case_id),
        source_level: Set(level.code().to_owned()),
        upstream_reference: Set(reference),
    })
    .on_conflict(
        OnConflict::columns([
            case_source::Column::CaseId,
            case_source::Column::SourceLevel,
            case_source::Column::UpstreamReference,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(transaction)
    .await?;
    Ok(())
}

/// The facts of one event, written into the case's row.
pub struct RecordFacts {
    case_id: uuid::Uuid,
    event: CaseEvent,
}

impl Change for RecordFacts {
    type State = ();
    type Outcome = ();
    type Error = Failure;

    async fn load(&self, _transaction: &DatabaseTransaction) -> Result<(), Failure> {
        Ok(())
    }

    fn decide(&self, (): (), _now: OffsetDateTime) -> Result<Decided<()>, Failure> {
        Ok(Decided::quietly(()))
    }

    async fn save(&self, transaction: &DatabaseTransaction, (): &()) -> Result<(), Failure> {
        let mut row = case_fact::ActiveModel {
            case_id: Set(self.case_id),
            case_number: NotSet,
            channel: NotSet,
            source_level: NotSet,
            registered_at: NotSet,
            unit_code: NotSet,
            routed_at: NotSet,
            supervised_at: NotSet,
            routing_revision: NotSet,
            linked_to_case_id: NotSet,
            territory_code: NotSet,
            matter_category: NotSet,
            correction_revision: NotSet,
        };
        // A routing decision writes its columns only over an older revision's; the timeline
        // names the unit only until a routing decision did.
        let mut only_if = None;
        // Only the columns this event knows are written, so events may come in any order.
        let columns = match self.event.clone() {
            CaseEvent::Registered {
                case_number,
                channel,
                source_level,
                upstream_reference,
                registered_at,
                territory_code,
                matter_category,
            } => {
                came_by(transaction, self.case_id, source_level, upstream_reference).await?;
                // As registered, unless a correction came first.
                row.territory_code = Set(Some(territory_code.clone()));
                row.matter_category = Set(Some(matter_category.clone()));
                case_fact::Entity::update_many()
                    .col_expr(Column::TerritoryCode, Expr::value(territory_code))
                    .col_expr(Column::MatterCategory, Expr::value(matter_category))
                    .filter(Column::CaseId.eq(self.case_id))
                    .filter(Column::CorrectionRevision.eq(0))
                    .exec(transaction)
                    .await?;
                row.case_number = Set(case_number);
                row.channel = Set(Some(channel.code().to_owned()));
                row.source_level = Set(Some(source_level.code().to_owned()));
                row.registered_at = Set(Some(registered_at));
                vec![Column::Channel, Column::SourceLevel, Column::RegisteredAt]
            }
            CaseEvent::Routed {
                case_number,
                unit_code,
                routed_at,
                revision,
                wrongly_routed_to,
            } => {
                if let Some(wrong_unit) = wrongly_routed_to {
                    wrong_routing::Entity::insert(wrong_routing::ActiveModel {
                        case_id: Set(self.case_id),
                        revision: Set(revision),
                        unit_code: Set(wrong_unit),
                        corrected_at: Set(routed_at),
                    })
                    .on_conflict(
                        OnConflict::columns([
                            wrong_routing::Column::CaseId,
                            wrong_routing::Column::Revision,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .exec_without_returning(transaction)
                    .await?;
                }
                row.case_number = Set(case_number);
                row.unit_code = Set(Some(unit_code));
                row.routed_at = Set(Some(routed_at));
                row.routing_revision = Set(revision);
                only_if =
                    Some(Expr::col((case_fact::Entity, Column::RoutingRevision)).lt(revision));
                vec![Column::UnitCode, Column::RoutedAt, Column::RoutingRevision]
            }
            CaseEvent::Linked {
                linked_case_id,
                linked_case_number,
                source_level,
                upstream_reference,
            } => {
                came_by(transaction, self.case_id, source_level, upstream_reference).await?;
                // The petition's own row: whichever of its registration and its link comes
                // first, it ends up counted under the case it went into only.
                case_fact::Entity::insert(case_fact::ActiveModel {
                    case_id: Set(linked_case_id),
                    case_number: Set(linked_case_number),
                    channel: NotSet,
                    source_level: NotSet,
                    registered_at: NotSet,
                    unit_code: NotSet,
                    routed_at: NotSet,
                    supervised_at: NotSet,
                    routing_revision: NotSet,
                    linked_to_case_id: Set(Some(self.case_id)),
                    territory_code: NotSet,
                    matter_category: NotSet,
                    correction_revision: NotSet,
                })
                .on_conflict(
                    OnConflict::column(Column::CaseId)
                        .update_column(Column::LinkedToCaseId)
                        .to_owned(),
                )
                .exec_without_returning(transaction)
                .await?;
                return Ok(());
            }
            CaseEvent::Corrected {
                case_number,
                revision,
                territory_code,
                matter_category,
            } => {
                row.case_number = Set(case_number);
                row.territory_code = Set(Some(territory_code));
                row.matter_category = Set(Some(matter_category));
                row.correction_revision = Set(revision);
                only_if =
                    Some(Expr::col((case_fact::Entity, Column::CorrectionRevision)).lt(revision));
                vec![
                    Column::TerritoryCode,
                    Column::MatterCategory,
                    Column::CorrectionRevision,
                ]
            }
            CaseEvent::Supervised {
                case_number,
                unit_code,
                opened_at,
            } => {
                row.case_number = Set(case_number);
                row.unit_code = Set(Some(unit_code.clone()));
                row.supervised_at = Set(Some(opened_at));
                // The unit, only while no routing decision named one.
                case_fact::Entity::update_many()
                    .col_expr(Column::UnitCode, Expr::value(unit_code))
                    .filter(Column::CaseId.eq(self.case_id))
                    .filter(Column::RoutingRevision.eq(0))
                    .exec(transaction)
                    .await?;
                vec![Column::SupervisedAt]
            }
        };
        let mut on_conflict = OnConflict::column(Column::CaseId);
        on_conflict.update_columns(columns);
        if let Some(condition) = only_if {
            on_conflict.action_and_where(condition);
        }
        case_fact::Entity::insert(row)
            .on_conflict(on_conflict.to_owned())
            .exec_without_returning(transaction)
            .await?;
        Ok(())
    }
}
