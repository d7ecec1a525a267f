//! The event envelope: CloudEvents attributes in NATS headers (binary mode), with the
//! protobuf message as the payload.
//!
//! `ce-id` is the event id and also `Nats-Msg-Id`, so the broker drops a duplicate publish
//! and every consumer's inbox can recognise a redelivery. `ce-subject` is the case id.

use async_nats::HeaderMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

pub const SPEC_VERSION: &str = "ce-specversion";
pub const ID: &str = "ce-id";
pub const TYPE: &str = "ce-type";
pub const SOURCE: &str = "ce-source";
pub const SUBJECT: &str = "ce-subject";
pub const TIME: &str = "ce-time";
pub const CONTENT_TYPE: &str = "ce-datacontenttype";
pub const DATA_SCHEMA: &str = "ce-dataschema";
/// W3C trace context, so one trace follows a petition through every service.
pub const TRACEPARENT: &str = "traceparent";
/// Set on a dead-lettered message: why the consumer set it aside.
pub const DEAD_LETTER_REASON: &str = "xinfang-dead-letter-reason";

/// What the headers of one event say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub event_id: Uuid,
    pub event_type: String,
    /// The publishing service, as `/xinfang/<service>`.
    pub source: String,
    pub case_id: Uuid,
    pub occurred_at: OffsetDateTime,
    pub traceparent: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("message has no headers")]
    NoHeaders,
    #[error("header {0} is missing")]
    Missing(&'static str),
    #[error("header {name} is malformed: {value:?}")]
    Malformed { name: &'static str, value: String },
}

impl Envelope {
    pub fn to_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let id = self.event_id.to_string();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
        headers.insert(SPEC_VERSION, "1.0");
        headers.insert(ID, id.as_str());
        headers.insert(TYPE, self.event_type.as_str());
        headers.insert(SOURCE, self.source.as_str());
        headers.insert(SUBJECT, self.case_id.to_string().as_str());
        // Formatting a valid OffsetDateTime as RFC 3339 fails only for years past 9999.
        let time = self.occurred_at.format(&Rfc3339).unwrap_or_default();
        headers.insert(TIME, time.as_str());
        headers.insert(CONTENT_TYPE, "application/protobuf");
        headers.insert(DATA_SCHEMA, format!("proto:{}", self.event_type).as_str());
        if let Some(traceparent) = &self.traceparent {
            headers.insert(TRACEPARENT, traceparent.as_str());
        }
        headers
    }

    pub fn from_headers(headers: Option<&HeaderMap>) -> Result<Self, EnvelopeError> {
        let headers = headers.ok_or(EnvelopeError::NoHeaders)?;
        let text = |name: &'static str| {
            headers
                .get(name)
                .map(|value| value.as_str().to_owned())
                .ok_or(EnvelopeError::Missing(name))
        };
        let uuid = |name: &'static str| {
            let value = text(name)?;
            Uuid::parse_str(&value).map_err(|_| EnvelopeError::Malformed { name, value })
        };
        let occurred_at = {
            let value = text(TIME)?;
            OffsetDateTime::parse(&value, &Rfc3339)
                .map_err(|_| EnvelopeError::Malformed { name: TIME, value })?
        };
        Ok(Self {
            event_id: uuid(ID)?,
            event_type: text(TYPE)?,
            source: text(SOURCE)?,
            case_id: uuid(SUBJECT)?,
            occurred_at,
            traceparent: text(TRACEPARENT).ok(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            event_id: Uuid::now_v7(),
            event_type: "xinfang.intake.v1.PetitionRegistered".into(),
            source: "/xinfang/intake".into(),
            case_id: Uuid::now_v7(),
            occurred_at: time::macros::datetime!(2026-03-02 09:30:00 +08:00),
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        }
    }

    #[test]
    fn an_envelope_survives_the_trip_through_headers() {
        let sent = envelope();
        let headers = sent.to_headers();
        assert_eq!(Envelope::from_headers(Some(&headers)), Ok(sent));
    }

    #[test]
    fn the_event_id_is_the_brokers_deduplication_id() {
        let sent = envelope();
        let headers = sent.to_headers();
        let message_id = headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .map(|v| v.as_str());
        assert_eq!(message_id, Some(sent.event_id.to_string().as_str()));
        assert_eq!(
            headers.get(CONTENT_TYPE).map(|v| v.as_str()),
            Some("application/protobuf")
        );
    }

    #[test]
    fn a_message_without_an_event_id_is_rejected() {
        let mut headers = envelope().to_headers();
        headers.insert(ID, "not-a-uuid");
        assert!(matches!(
            Envelope::from_headers(Some(&headers)),
            Err(EnvelopeError::Malformed { name: ID, .. })
        ));
        assert_eq!(Envelope::from_headers(None), Err(EnvelopeError::NoHeaders));
    }
}
