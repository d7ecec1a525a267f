//! NATS users with the least each service needs, derived from the subject catalogue
//! (`xinfang_proto::subjects::SERVICES`): a service may publish only its own events and
//! dead letters, manage only its own stream and its own durable consumers, and read replies
//! only on its own inbox prefix. The same function writes the local stack's and the tests'
//! server configuration, and Kubernetes' (see `deploy/`).

use xinfang_proto::subjects::{
    DEAD_LETTER_STREAM, ServiceBinding, StreamSpec, dead_letter_subject,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
}

/// A user in the server's `authorization` block; `permissions: None` is the operator (the
/// CLI, the tests), allowed everything.
#[derive(Debug, Clone)]
pub struct NatsUser {
    pub name: String,
    pub password: String,
    pub permissions: Option<Permissions>,
}

/// Replies to a service's requests come on its own prefix, so no other user can read them.
pub fn inbox_prefix(service: &str) -> String {
    format!("_INBOX_{service}")
}

fn manage_stream(stream: &StreamSpec) -> [String; 3] {
    [
        format!("$JS.API.STREAM.CREATE.{}", stream.name),
        format!("$JS.API.STREAM.UPDATE.{}", stream.name),
        format!("$JS.API.STREAM.INFO.{}", stream.name),
    ]
}

pub fn permissions(binding: &ServiceBinding) -> Permissions {
    let mut publish = vec!["$JS.API.INFO".to_owned()];
    let mut subscribe = vec![format!("{}.>", inbox_prefix(binding.service))];
    if let Some(stream) = &binding.publishes {
        publish.push(stream.subjects.to_owned());
        publish.extend(manage_stream(stream));
    }
    if !binding.consumes.is_empty() {
        publish.extend(manage_stream(&DEAD_LETTER_STREAM));
    }
    for consumer in binding.consumes {
        let (stream, name) = (consumer.stream.name, consumer.name);
        publish.extend([
            dead_letter_subject(name),
            format!("$JS.API.STREAM.INFO.{stream}"),
            format!("$JS.API.CONSUMER.INFO.{stream}.{name}"),
            format!("$JS.API.CONSUMER.CREATE.{stream}.{name}"),
            format!("$JS.API.CONSUMER.CREATE.{stream}.{name}.>"),
            format!("$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{name}"),
            format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}"),
            format!("$JS.ACK.{stream}.{name}.>"),
            // Reading back a message that ran out of deliveries, by its sequence.
            format!("$JS.API.STREAM.MSG.GET.{stream}"),
        ]);
        subscribe.push(format!(
            "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{name}"
        ));
    }
    publish.dedup();
    Permissions { publish, subscribe }
}

/// The server's `authorization { users = [...] }` block for these users.
pub fn authorization_block(users: &[NatsUser]) -> String {
    let quote = |items: &[String]| {
        items
            .iter()
            .map(|item| format!("\"{item}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut block = String::from("authorization {\n  users = [\n");
    for user in users {
        block.push_str(&format!(
            "    {{ user: \"{}\", password: \"{}\"",
            user.name, user.password
        ));
        if let Some(permissions) = &user.permissions {
            block.push_str(&format!(
                ", permissions: {{ publish: {{ allow: [{}] }}, subscribe: {{ allow: [{}] }} }}",
                quote(&permissions.publish),
                quote(&permissions.subscribe)
            ));
        }
        block.push_str(" }\n");
    }
    block.push_str("  ]\n}\n");
    block
}

#[cfg(test)]
mod tests {
    use super::*;
    use xinfang_proto::subjects::{INTAKE, ROUTING};

    #[test]
    fn intake_may_publish_only_its_own_events() {
        let intake = permissions(&INTAKE);
        assert!(intake.publish.contains(&"xinfang.v1.intake.>".to_owned()));
        assert!(
            !intake
                .publish
                .iter()
                .any(|p| p.starts_with("xinfang.v1.routing"))
        );
        // It reads routing's decisions only through its own durable consumer.
        let consumer_apis: Vec<&String> = intake
            .publish
            .iter()
            .filter(|p| p.contains("CONSUMER"))
            .collect();
        assert!(!consumer_apis.is_empty());
        assert!(
            consumer_apis
                .iter()
                .all(|p| p.contains("XINFANG_ROUTING.intake"))
        );
        assert_eq!(intake.subscribe[0], "_INBOX_intake.>");
    }

    #[test]
    fn routing_reads_intake_only_through_its_own_durable_consumer() {
        let routing = permissions(&ROUTING);
        assert!(
            routing
                .publish
                .contains(&"$JS.API.CONSUMER.MSG.NEXT.XINFANG_INTAKE.routing".to_owned())
        );
        assert!(
            routing
                .publish
                .contains(&"xinfang.v1.deadletter.routing".to_owned())
        );
        assert!(
            !routing
                .publish
                .iter()
                .any(|p| p.contains("STREAM.CREATE.XINFANG_INTAKE"))
        );
        assert!(!routing.publish.iter().any(|p| p.contains("DIRECT.GET")));
    }
}
