//! Departments' own feeds: each unit of the directory that handles cases may read its own
//! case events (a town also its villages') and nothing else. The operator declares one
//! durable consumer per stream for it (`dept-<unit>`), filtered to its units' subjects; the
//! unit's NATS user may only read through those consumers and acknowledge. It may not
//! create a consumer (so no other filter), read a stream's messages directly
//! (`$JS.API.DIRECT.GET`, `$JS.API.STREAM.MSG.GET`), nor subscribe to any event subject.
//!
//! Users with permissions in the one account, rather than an account per department with
//! exports and imports: the services already live in one account with least-privilege
//! users, a department's rights are a handful of subjects derived from the same directory,
//! and a directory change is a regenerated file and a reload, with no operator JWTs to sign.

use async_nats::jetstream::{self, consumer::pull};
use xinfang_proto::subjects::{ROUTING_STREAM, SUPERVISION_STREAM, StreamSpec};

use crate::nats_auth::{NatsUser, Permissions, inbox_prefix};

/// The streams with events on unit subjects, and the service that names each subject
/// (`xinfang.v1.<service>.unit.<unit>.…`).
pub const FEED_STREAMS: [(&StreamSpec, &str); 2] = [
    (&ROUTING_STREAM, "routing"),
    (&SUPERVISION_STREAM, "supervision"),
];

/// A unit of the directory as a feed needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUnit {
    pub code: String,
    pub parent: Option<String>,
    /// Whether cases go to it (not a bureau, not a higher bureau).
    pub handles_cases: bool,
}

/// A department's feed: its unit, and the units whose events it reads (itself and every
/// unit under it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub unit: String,
    pub covers: Vec<String>,
}

/// The NATS user, and the name of its durable consumer on each stream.
pub fn user_name(unit: &str) -> String {
    format!("dept-{unit}")
}

/// Every unit that handles cases, with the units under it.
pub fn departments(units: &[DirectoryUnit]) -> Vec<Department> {
    let parent_of = |code: &str| {
        units
            .iter()
            .find(|unit| unit.code == code)
            .and_then(|unit| unit.parent.as_deref())
    };
    // Whether `code` is `ancestor` or lies under it; bounded, so a cycle cannot hang it.
    let within = |code: &str, ancestor: &str| {
        let mut at = Some(code);
        for _ in 0..=units.len() {
            match at {
                Some(unit) if unit == ancestor => return true,
                Some(unit) => at = parent_of(unit),
                None => return false,
            }
        }
        false
    };
    units
        .iter()
        .filter(|unit| unit.handles_cases)
        .map(|department| Department {
            unit: department.code.clone(),
            covers: units
                .iter()
                .filter(|unit| within(&unit.code, &department.code))
                .map(|unit| unit.code.clone())
                .collect(),
        })
        .collect()
}

/// The subjects of `service`'s events about the department's units.
pub fn filter_subjects(service: &str, department: &Department) -> Vec<String> {
    department
        .covers
        .iter()
        .map(|unit| format!("xinfang.v1.{service}.unit.{unit}.>"))
        .collect()
}

/// Reading through its own durable consumers and acknowledging: nothing else.
pub fn permissions(department: &Department) -> Permissions {
    let consumer = user_name(&department.unit);
    let mut publish = Vec::new();
    for (stream, _) in FEED_STREAMS {
        let stream = stream.name;
        publish.push(format!("$JS.API.CONSUMER.INFO.{stream}.{consumer}"));
        publish.push(format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"));
        publish.push(format!("$JS.ACK.{stream}.{consumer}.>"));
    }
    Permissions {
        publish,
        subscribe: vec![format!("{}.>", inbox_prefix(&consumer))],
    }
}

/// The department's NATS user, with `password`.
pub fn user(department: &Department, password: String) -> NatsUser {
    NatsUser {
        name: user_name(&department.unit),
        password,
        permissions: Some(permissions(department)),
    }
}

/// The durable consumer the operator declares for the department on a stream: every event
/// of its units from the beginning, each acknowledged by the department.
pub fn consumer_config(service: &str, department: &Department) -> pull::Config {
    pull::Config {
        durable_name: Some(user_name(&department.unit)),
        description: Some(format!("{}'s own case events", department.unit)),
        filter_subjects: filter_subjects(service, department),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        deliver_policy: jetstream::consumer::DeliverPolicy::All,
        ack_wait: std::time::Duration::from_secs(60),
        ..Default::default()
    }
}

/// Creates or updates every department's consumers (as the operator). A unit added to the
/// directory gets its own; a village moved to another town changes both towns' filters.
pub async fn declare(
    context: &jetstream::Context,
    departments: &[Department],
) -> Result<usize, async_nats::Error> {
    let mut declared = 0;
    for (stream, service) in FEED_STREAMS {
        let stream = context.get_stream(stream.name).await?;
        for department in departments {
            stream
                .create_consumer(consumer_config(service, department))
                .await?;
            declared += 1;
        }
    }
    Ok(declared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, parent: Option<&str>, handles_cases: bool) -> DirectoryUnit {
        DirectoryUnit {
            code: code.into(),
            parent: parent.map(Into::into),
            handles_cases,
        }
    }

    fn demo() -> Vec<DirectoryUnit> {
        vec![
            unit("xfj", None, false),
            unit("zhaocun", None, true),
            unit("zhaocun-tiefo", Some("zhaocun"), true),
            unit("dongcheng", None, true),
        ]
    }

    #[test]
    fn a_town_reads_its_villages_events_too_and_no_one_elses() {
        let departments = departments(&demo());
        let town = departments
            .iter()
            .find(|d| d.unit == "zhaocun")
            .expect("zhaocun");
        assert_eq!(town.covers, ["zhaocun", "zhaocun-tiefo"]);
        assert_eq!(
            filter_subjects("routing", town),
            [
                "xinfang.v1.routing.unit.zhaocun.>",
                "xinfang.v1.routing.unit.zhaocun-tiefo.>"
            ]
        );
        let village = departments
            .iter()
            .find(|d| d.unit == "zhaocun-tiefo")
            .expect("the village");
        assert_eq!(village.covers, ["zhaocun-tiefo"]);
    }

    #[test]
    fn the_bureau_has_no_department_feed() {
        assert!(!departments(&demo()).iter().any(|d| d.unit == "xfj"));
    }

    #[test]
    fn a_department_may_only_read_through_its_own_consumers() {
        let granted = permissions(&Department {
            unit: "zhaocun".into(),
            covers: vec!["zhaocun".into()],
        });
        assert!(granted.publish.iter().all(|p| p.contains(".dept-zhaocun")));
        for forbidden in ["DIRECT.GET", "MSG.GET", "CONSUMER.CREATE", "xinfang.v1."] {
            assert!(
                !granted.publish.iter().any(|p| p.contains(forbidden)),
                "{forbidden}"
            );
        }
        assert_eq!(granted.subscribe, ["_INBOX_dept-zhaocun.>"]);
    }
}
