//! NATS users with the least each service needs, derived from the subject catalogue
//! (`xinfang_proto::subjects::SERVICES`): a service may publish only its own events and
//! dead letters, create (never update) its own stream and no other, manage only its own
//! durable consumers, and read replies only on its own inbox prefix. Without the right to
//! update a stream, or to create the dead-letter and notice streams, no service can set a
//! limit that erases history or dead letters; the operator declares and updates streams
//! (`xinfang streams declare`). The same function writes the local stack's and the tests'
//! server configuration, and Kubernetes' (see `deploy/`).

use xinfang_proto::subjects::{
    ADVISORY_STREAM, ANY_RECEIPT, DEAD_LETTER_STREAM, SUBMISSION_CHANNELS, ServiceBinding,
    StreamSpec, dead_letter_subject, exhausted_consumer, rebuild_consumer, receipts_of,
    submission_subject,
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

/// Creating a stream that does not exist yet, never changing one that does: the server
/// refuses a create whose configuration differs from the existing stream's.
fn create_stream(stream: &StreamSpec) -> [String; 2] {
    [
        format!("$JS.API.STREAM.CREATE.{}", stream.name),
        format!("$JS.API.STREAM.INFO.{}", stream.name),
    ]
}

/// A durable consumer `name` of `stream`: creating it, reading through it, acknowledging.
fn durable_consumer(stream: &str, name: &str) -> [String; 6] {
    [
        format!("$JS.API.CONSUMER.INFO.{stream}.{name}"),
        format!("$JS.API.CONSUMER.CREATE.{stream}.{name}"),
        format!("$JS.API.CONSUMER.CREATE.{stream}.{name}.>"),
        format!("$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{name}"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}"),
        format!("$JS.ACK.{stream}.{name}.>"),
    ]
}

pub fn permissions(binding: &ServiceBinding) -> Permissions {
    let mut publish = vec!["$JS.API.INFO".to_owned()];
    let subscribe = vec![format!("{}.>", inbox_prefix(binding.service))];
    if let Some(stream) = &binding.publishes {
        publish.push(stream.subjects.to_owned());
        publish.extend(create_stream(stream));
    }
    if let Some(queue) = &binding.queue {
        // Created and read by the service; filled by the systems, answered on receipts.
        // No dead letters and no backstop: a submission is answered or waits.
        publish.extend(create_stream(&queue.stream));
        publish.extend(durable_consumer(queue.stream.name, queue.name));
        publish.push(ANY_RECEIPT.to_owned());
    }
    if !binding.consumes.is_empty() {
        // The dead letters and the notices are the operator's to create: read them only.
        publish.push(format!("$JS.API.STREAM.INFO.{}", DEAD_LETTER_STREAM.name));
        publish.push(format!("$JS.API.STREAM.INFO.{}", ADVISORY_STREAM.name));
    }
    // A rebuild's consumers are the service's too, and removed when it is done.
    let rebuilds = binding
        .consumes
        .iter()
        .filter(|_| binding.rebuilds)
        .map(|consumer| (consumer.stream.name, rebuild_consumer(consumer)))
        .collect::<Vec<_>>();
    for (stream, name) in &rebuilds {
        publish.push(format!("$JS.API.CONSUMER.DELETE.{stream}.{name}"));
        publish.push(format!(
            "$JS.API.CONSUMER.DELETE.{}.{}",
            ADVISORY_STREAM.name,
            exhausted_consumer(name)
        ));
    }
    let consumers = binding
        .consumes
        .iter()
        .map(|consumer| (consumer.stream.name, consumer.name.to_owned()))
        .chain(rebuilds);
    for (stream, name) in consumers {
        let name = name.as_str();
        publish.push(dead_letter_subject(name));
        publish.push(format!("$JS.API.STREAM.INFO.{stream}"));
        publish.extend(durable_consumer(stream, name));
        // The backstop: its notices, and reading back the message a notice names.
        publish.extend(durable_consumer(
            ADVISORY_STREAM.name,
            &exhausted_consumer(name),
        ));
        publish.push(format!("$JS.API.STREAM.MSG.GET.{stream}"));
    }
    let mut seen = std::collections::HashSet::new();
    publish.retain(|permission| seen.insert(permission.clone()));
    Permissions { publish, subscribe }
}

/// An external system that submits petitions (the surge channel): it may publish on its own
/// channel's subject only, read only its own receipts and the replies to its own publishes
/// (it connects with the inbox prefix `_INBOX_<system>`), and nothing of any stream.
pub fn submitter(system: &str, channel: &str, password: String) -> Result<NatsUser, String> {
    // Another user's name would share its inbox prefix, and read its replies.
    let reserved = system == "operator"
        || system.starts_with("dept-")
        || xinfang_proto::subjects::SERVICES
            .iter()
            .any(|binding| binding.service == system);
    if reserved {
        return Err(format!(
            "system {system:?}: the name is a service's, the operator's or a department's"
        ));
    }
    let valid_name = !system.is_empty()
        && system.len() <= 64
        && system
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_name {
        return Err(format!(
            "system {system:?}: a name of a-z, 0-9 and '-' (it is a NATS subject token)"
        ));
    }
    if !SUBMISSION_CHANNELS.contains(&channel) {
        return Err(format!(
            "system {system}: channel {channel:?} is not one of {}",
            SUBMISSION_CHANNELS.join(", ")
        ));
    }
    Ok(NatsUser {
        name: system.to_owned(),
        password,
        permissions: Some(Permissions {
            publish: vec![submission_subject(channel, system)],
            subscribe: vec![receipts_of(system), format!("{}.>", inbox_prefix(system))],
        }),
    })
}

/// Parses `system=channel` (a `--submitter` flag).
pub fn parse_submitter(text: &str) -> Result<(String, String), String> {
    let (system, channel) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not system=channel"))?;
    submitter(system, channel, String::new())?;
    Ok((system.to_owned(), channel.to_owned()))
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
        // It reads routing's and supervision's streams only through its own durable
        // consumers (decisions, the directory, final matters), its max-deliveries notices
        // through theirs, and its own submission queue.
        let consumer_apis: Vec<&String> = intake
            .publish
            .iter()
            .filter(|p| p.contains("CONSUMER"))
            .collect();
        assert!(!consumer_apis.is_empty());
        assert!(consumer_apis.iter().all(|p| {
            p.contains("XINFANG_ROUTING.intake")
                || p.contains("XINFANG_SUPERVISION.intake")
                || p.contains("XINFANG_ADVISORIES.intake")
                || p.contains("XINFANG_SUBMISSIONS.intake-submissions")
        }));
        assert_eq!(intake.subscribe[0], "_INBOX_intake.>");
    }

    #[test]
    fn intake_creates_and_reads_the_submission_queue_and_answers_on_receipts() {
        let intake = permissions(&INTAKE);
        for granted in [
            "$JS.API.STREAM.CREATE.XINFANG_SUBMISSIONS",
            "$JS.API.CONSUMER.MSG.NEXT.XINFANG_SUBMISSIONS.intake-submissions",
            "xinfang.v1.receipts.>",
        ] {
            assert!(intake.publish.contains(&granted.to_owned()), "{granted}");
        }
        // A submission is never set aside where personal data would stay for good.
        assert!(
            !intake
                .publish
                .iter()
                .any(|p| p.contains("deadletter.intake-submissions")
                    || p.contains("intake-submissions-exhausted"))
        );
        // Submissions come from the systems, never from intake.
        assert!(
            !intake
                .publish
                .iter()
                .any(|p| p.starts_with("xinfang.v1.submissions"))
        );
        // No other service reads the queue.
        for binding in [ROUTING, xinfang_proto::subjects::SUPERVISION] {
            let other = permissions(&binding);
            assert!(!other.publish.iter().any(|p| p.contains("SUBMISSIONS")));
        }
    }

    #[test]
    fn a_system_may_submit_on_its_own_channel_and_read_its_own_receipts_only() {
        let user = submitter("online-platform", "online", "pw".into()).expect("valid");
        let permissions = user.permissions.expect("restricted");
        assert_eq!(
            permissions.publish,
            ["xinfang.v1.submissions.online.online-platform"]
        );
        assert_eq!(
            permissions.subscribe,
            [
                "xinfang.v1.receipts.online-platform.>",
                "_INBOX_online-platform.>"
            ]
        );
        assert!(submitter("online.platform", "online", String::new()).is_err());
        assert!(submitter("online-platform", "email", String::new()).is_err());
        assert!(submitter(">", "online", String::new()).is_err());
        assert!(submitter("intake", "online", String::new()).is_err());
        assert!(submitter("dept-zhaocun", "online", String::new()).is_err());
        assert_eq!(
            parse_submitter("shaanxi-bureau=upstream"),
            Ok(("shaanxi-bureau".to_owned(), "upstream".to_owned()))
        );
        assert!(parse_submitter("shaanxi-bureau").is_err());
    }

    #[test]
    fn no_service_may_change_delete_or_empty_a_stream() {
        for binding in xinfang_proto::subjects::SERVICES {
            let granted = permissions(&binding).publish;
            for forbidden in [
                "STREAM.UPDATE",
                "STREAM.DELETE",
                "STREAM.PURGE",
                "MSG.DELETE",
            ] {
                assert!(
                    !granted.iter().any(|p| p.contains(forbidden)),
                    "{} may {forbidden}",
                    binding.service
                );
            }
        }
    }

    #[test]
    fn no_service_may_create_the_dead_letter_or_notice_streams() {
        for binding in xinfang_proto::subjects::SERVICES {
            let granted = permissions(&binding).publish;
            for stream in [DEAD_LETTER_STREAM, ADVISORY_STREAM] {
                let create = format!("$JS.API.STREAM.CREATE.{}", stream.name);
                assert!(
                    !granted.contains(&create),
                    "{} may {create}",
                    binding.service
                );
            }
        }
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
