//! Subject and stream names: the one place they are spelled.
//!
//! Subjects are `xinfang.v1.<owning service>.<...>`. Each service publishes only under its
//! own prefix, into its own stream. Events a department may see carry the responsible
//! unit's code as a token (`xinfang.v1.<service>.unit.<unit-code>.<event>`), so that NATS
//! permissions alone keep one department away from another's cases; unit codes are
//! `[a-z0-9-]`, safe as a subject token.

/// A JetStream stream: its name and the subjects it captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSpec {
    pub name: &'static str,
    pub subjects: &'static str,
    pub description: &'static str,
}

/// Everything intake publishes.
pub const INTAKE_STREAM: StreamSpec = StreamSpec {
    name: "XINFANG_INTAKE",
    subjects: "xinfang.v1.intake.>",
    description: "petitions registered by intake",
};

/// Everything routing publishes.
pub const ROUTING_STREAM: StreamSpec = StreamSpec {
    name: "XINFANG_ROUTING",
    subjects: "xinfang.v1.routing.>",
    description: "routing decisions, on subjects that carry the responsible unit's code",
};

/// Everything supervision publishes.
pub const SUPERVISION_STREAM: StreamSpec = StreamSpec {
    name: "XINFANG_SUPERVISION",
    subjects: "xinfang.v1.supervision.>",
    description: "case timelines and deadlines, on subjects that carry the unit's code",
};

/// Messages a consumer could not process, with the reason in a header.
pub const DEAD_LETTER_STREAM: StreamSpec = StreamSpec {
    name: "XINFANG_DEAD_LETTER",
    subjects: "xinfang.v1.deadletter.>",
    description: "poison messages set aside by consumers, with the reason",
};

/// The server's notices that a message ran out of deliveries, kept until each consumer's
/// backstop has set the message aside: a notice that fires while the consumer's service is
/// down waits here for its next start instead of being lost.
pub const ADVISORY_STREAM: StreamSpec = StreamSpec {
    name: "XINFANG_ADVISORIES",
    subjects: "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>",
    description: "max-deliveries notices, until each consumer's backstop has handled them",
};

/// Petitions external systems submit (the surge channel): a work queue that only intake
/// reads, each message gone once registered. Not events: they carry personal data.
pub const SUBMISSION_STREAM: StreamSpec = StreamSpec {
    name: "XINFANG_SUBMISSIONS",
    subjects: "xinfang.v1.submissions.>",
    description: "petitions submitted by external systems, until intake registers them",
};

/// Every stream, as the operator declares them (`xinfang streams declare`).
/// The queue comes last: the server refuses some changes to a work queue (its retention),
/// and such a refusal must not leave the event streams undeclared.
pub const STREAMS: [StreamSpec; 6] = [
    INTAKE_STREAM,
    ROUTING_STREAM,
    SUPERVISION_STREAM,
    DEAD_LETTER_STREAM,
    ADVISORY_STREAM,
    SUBMISSION_STREAM,
];

/// The server's notice that `consumer` of `stream` gave up on a message.
pub fn max_deliveries_advisory(stream: &str, consumer: &str) -> String {
    format!("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{consumer}")
}

/// The durable consumer of [`ADVISORY_STREAM`] through which `consumer`'s backstop reads
/// its notices.
pub fn exhausted_consumer(consumer: &str) -> String {
    format!("{consumer}-exhausted")
}

/// Where `system` submits petitions that came in by `channel` (a [`SUBMISSION_CHANNELS`]
/// token); its NATS user may publish there and nowhere else.
pub fn submission_subject(channel: &str, system: &str) -> String {
    format!("xinfang.v1.submissions.{channel}.{system}")
}

/// The channel tokens of the surge channel: a petition's own channel, or `upstream` for one
/// a higher bureau sent down.
pub const SUBMISSION_CHANNELS: [&str; 6] = [
    "online",
    "letter",
    "visit",
    "phone",
    "leader-mailbox",
    "upstream",
];

/// Where intake answers `system`'s submission `request_id`: plain NATS, in no stream (a
/// receipt holds the query code).
pub fn receipt_subject(system: &str, request_id: &str) -> String {
    format!("xinfang.v1.receipts.{system}.{request_id}")
}

/// Every receipt for `system`: what its NATS user may read.
pub fn receipts_of(system: &str) -> String {
    format!("xinfang.v1.receipts.{system}.>")
}

/// Every receipt: what intake may publish.
pub const ANY_RECEIPT: &str = "xinfang.v1.receipts.>";

/// A petition was registered with a case number.
pub const PETITION_REGISTERED: &str = "xinfang.v1.intake.petition.registered";

/// A clerk linked a petition a higher bureau sent down into a case of the same matter.
pub const PETITION_LINKED: &str = "xinfang.v1.intake.petition.linked";

/// A clerk corrected a registration (category, territory, title, content).
pub const PETITION_CORRECTED: &str = "xinfang.v1.intake.petition.corrected";

/// Routing sent a case to a unit.
pub fn petition_routed(unit_code: &str) -> String {
    format!("xinfang.v1.routing.unit.{unit_code}.petition.routed")
}

/// Routing loaded a unit directory that differs from the last one it published.
pub const DIRECTORY_PUBLISHED: &str = "xinfang.v1.routing.directory.published";

/// A case left the unit: re-routed elsewhere (its old unit's notice; the event says where).
pub fn petition_moved(unit_code: &str) -> String {
    format!("xinfang.v1.routing.unit.{unit_code}.petition.moved")
}

/// A case was routed to another lead unit with this unit co-handling it (协办).
pub fn petition_cohandled(unit_code: &str) -> String {
    format!("xinfang.v1.routing.unit.{unit_code}.petition.cohandled")
}

/// Every routing decision, whichever the unit.
pub const ANY_PETITION_ROUTED: &str = "xinfang.v1.routing.unit.*.petition.routed";

/// Supervision opened a case's timeline.
pub fn timeline_opened(unit_code: &str) -> String {
    format!("xinfang.v1.supervision.unit.{unit_code}.timeline.opened")
}

/// Every opened timeline, whichever the unit.
pub const ANY_TIMELINE_OPENED: &str = "xinfang.v1.supervision.unit.*.timeline.opened";

/// A step of a case's procedure (`action`: `signed-for`, `accepted`, `served` …).
pub fn case_advanced(unit_code: &str, action: &str) -> String {
    format!("xinfang.v1.supervision.unit.{unit_code}.case.{action}")
}

/// Every step of every case, whichever the unit and the action.
pub const ANY_CASE_ADVANCED: &str = "xinfang.v1.supervision.unit.*.case.*";

/// A matter re-reviewed and served: final (Art 36).
pub fn matter_final(unit_code: &str) -> String {
    format!("xinfang.v1.supervision.unit.{unit_code}.matter.final")
}

/// A deadline's due day moved with the calendar.
pub fn deadline_moved(unit_code: &str) -> String {
    format!("xinfang.v1.supervision.unit.{unit_code}.deadline.moved")
}

/// A timer fired on a deadline (`level`: `approaching`, `overdue`, `supervised`).
pub fn deadline_alerted(unit_code: &str, level: &str) -> String {
    format!("xinfang.v1.supervision.unit.{unit_code}.deadline.{level}")
}

/// The bureau issued a letter about a case of the unit.
pub fn letter_issued(unit_code: &str) -> String {
    format!("xinfang.v1.supervision.unit.{unit_code}.letter.issued")
}

/// A leader's ownership of a case changed (`what`: `assigned`, `outcome`).
pub fn leader_case_changed(unit_code: &str, what: &str) -> String {
    format!("xinfang.v1.supervision.unit.{unit_code}.leader.{what}")
}

/// The watch list changed (`what`: `added`, `removed`).
pub fn watch_list_changed(unit_code: &str, what: &str) -> String {
    format!("xinfang.v1.supervision.unit.{unit_code}.watch.{what}")
}

/// An inspection of a unit was recorded.
pub fn inspection_recorded(unit_code: &str) -> String {
    format!("xinfang.v1.supervision.unit.{unit_code}.inspection.recorded")
}

/// A leader's reception or visit down: not on a unit's subject.
pub const RECEPTION_RECORDED: &str = "xinfang.v1.supervision.reception.recorded";

/// Every due day the calendar moved, whichever the unit.
pub const ANY_DEADLINE_MOVED: &str = "xinfang.v1.supervision.unit.*.deadline.moved";

/// Every letter, leader's case, watch-list change and inspection, whichever the unit.
pub const ANY_LETTER_ISSUED: &str = "xinfang.v1.supervision.unit.*.letter.issued";
pub const ANY_LEADER_CASE_CHANGED: &str = "xinfang.v1.supervision.unit.*.leader.*";
pub const ANY_WATCH_LIST_CHANGED: &str = "xinfang.v1.supervision.unit.*.watch.*";
pub const ANY_INSPECTION_RECORDED: &str = "xinfang.v1.supervision.unit.*.inspection.recorded";

/// Every final matter, whichever the unit: intake refuses them again.
pub const ANY_MATTER_FINAL: &str = "xinfang.v1.supervision.unit.*.matter.final";

/// A declared interest (Art 28) recorded or withdrawn: not on a unit's subject, so no
/// department's feed carries it.
pub const RECUSAL_CHANGED: &str = "xinfang.v1.supervision.recusal.changed";

/// A durable consumer: its name (also its inbox key and dead-letter token), the stream it
/// reads and the subjects it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerBinding {
    pub name: &'static str,
    pub stream: StreamSpec,
    pub filter: &'static str,
}

/// What one service publishes and consumes: the source of its consumers' settings and of
/// its NATS permissions, so the two cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceBinding {
    pub service: &'static str,
    pub publishes: Option<StreamSpec>,
    /// A work queue of its own that others fill and it alone reads, through this durable
    /// consumer (it may create both).
    pub queue: Option<ConsumerBinding>,
    pub consumes: &'static [ConsumerBinding],
    /// Whether it may replay its consumers' streams into an empty database through
    /// consumers of its own (`rebuild_consumer`), and delete them afterwards.
    pub rebuilds: bool,
}

pub const ROUTING_TAKES_REGISTERED: ConsumerBinding = ConsumerBinding {
    name: "routing",
    stream: INTAKE_STREAM,
    filter: PETITION_REGISTERED,
};

/// A linked petition leaves routing's triage list: its case is handled where it went.
pub const ROUTING_TAKES_LINKS: ConsumerBinding = ConsumerBinding {
    name: "routing-links",
    stream: INTAKE_STREAM,
    filter: PETITION_LINKED,
};

/// Intake learns where each case went, to know which units may read it.
pub const INTAKE_TAKES_ROUTED: ConsumerBinding = ConsumerBinding {
    name: "intake",
    stream: ROUTING_STREAM,
    filter: ANY_PETITION_ROUTED,
};

/// Intake keeps the unit codes of the directory, to tell a clerk at once that a code is
/// not in it.
pub const INTAKE_TAKES_DIRECTORY: ConsumerBinding = ConsumerBinding {
    name: "intake-directory",
    stream: ROUTING_STREAM,
    filter: DIRECTORY_PUBLISHED,
};

/// Intake learns which matters are final after re-review, to refuse them again (Art 36).
pub const INTAKE_TAKES_FINAL: ConsumerBinding = ConsumerBinding {
    name: "intake-final",
    stream: SUPERVISION_STREAM,
    filter: ANY_MATTER_FINAL,
};

/// Intake registers what external systems submit, from any number of replicas. Not among
/// intake's event consumers: a submission is never dead-lettered (it would keep personal
/// data in a stream nobody may empty); its permissions come with the queue.
pub const INTAKE_TAKES_SUBMISSIONS: ConsumerBinding = ConsumerBinding {
    name: "intake-submissions",
    stream: SUBMISSION_STREAM,
    filter: "xinfang.v1.submissions.>",
};

/// Intake keeps the declared interests, to refuse a recused person the case (Art 28).
pub const INTAKE_TAKES_RECUSALS: ConsumerBinding = ConsumerBinding {
    name: "intake-recusals",
    stream: SUPERVISION_STREAM,
    filter: RECUSAL_CHANGED,
};

/// Routing keeps the declared interests, to refuse a recused person the case (Art 28).
pub const ROUTING_TAKES_RECUSALS: ConsumerBinding = ConsumerBinding {
    name: "routing-recusals",
    stream: SUPERVISION_STREAM,
    filter: RECUSAL_CHANGED,
};

pub const SUPERVISION_TAKES_ROUTED: ConsumerBinding = ConsumerBinding {
    name: "supervision",
    stream: ROUTING_STREAM,
    filter: ANY_PETITION_ROUTED,
};

/// Supervision opens each case's forward clock at registration, before routing acts.
pub const SUPERVISION_TAKES_REGISTERED: ConsumerBinding = ConsumerBinding {
    name: "supervision-intake",
    stream: INTAKE_STREAM,
    filter: PETITION_REGISTERED,
};

/// Routing learns a corrected registration's facts, and asks a clerk to look again when its
/// rules would now send the case elsewhere.
pub const ROUTING_TAKES_CORRECTIONS: ConsumerBinding = ConsumerBinding {
    name: "routing-corrections",
    stream: INTAKE_STREAM,
    filter: PETITION_CORRECTED,
};

/// Supervision keeps one obligation per higher bureau, and closes a linked petition.
pub const SUPERVISION_TAKES_LINKS: ConsumerBinding = ConsumerBinding {
    name: "supervision-links",
    stream: INTAKE_STREAM,
    filter: PETITION_LINKED,
};

/// Statistics keeps every event it counts as a fact. The `-facts` names are new with the
/// fact store (projection 1): on an existing server they read their streams from the start,
/// so the facts hold the whole history. The rebuild (`xinfang statistics rebuild`) reads the
/// same filters through its own consumers, `<name>-rebuild`.
pub const STATISTICS_TAKES: [ConsumerBinding; 13] = [
    statistics_takes(
        "statistics-facts-registered",
        INTAKE_STREAM,
        PETITION_REGISTERED,
    ),
    statistics_takes("statistics-facts-linked", INTAKE_STREAM, PETITION_LINKED),
    statistics_takes(
        "statistics-facts-corrected",
        INTAKE_STREAM,
        PETITION_CORRECTED,
    ),
    statistics_takes(
        "statistics-facts-routed",
        ROUTING_STREAM,
        ANY_PETITION_ROUTED,
    ),
    statistics_takes(
        "statistics-facts-opened",
        SUPERVISION_STREAM,
        ANY_TIMELINE_OPENED,
    ),
    statistics_takes(
        "statistics-facts-steps",
        SUPERVISION_STREAM,
        ANY_CASE_ADVANCED,
    ),
    statistics_takes(
        "statistics-facts-moved",
        SUPERVISION_STREAM,
        ANY_DEADLINE_MOVED,
    ),
    statistics_takes(
        "statistics-facts-directory",
        ROUTING_STREAM,
        DIRECTORY_PUBLISHED,
    ),
    statistics_takes(
        "statistics-facts-letters",
        SUPERVISION_STREAM,
        ANY_LETTER_ISSUED,
    ),
    statistics_takes(
        "statistics-facts-leaders",
        SUPERVISION_STREAM,
        ANY_LEADER_CASE_CHANGED,
    ),
    statistics_takes(
        "statistics-facts-watch",
        SUPERVISION_STREAM,
        ANY_WATCH_LIST_CHANGED,
    ),
    statistics_takes(
        "statistics-facts-inspections",
        SUPERVISION_STREAM,
        ANY_INSPECTION_RECORDED,
    ),
    statistics_takes(
        "statistics-facts-receptions",
        SUPERVISION_STREAM,
        RECEPTION_RECORDED,
    ),
];

const fn statistics_takes(
    name: &'static str,
    stream: StreamSpec,
    filter: &'static str,
) -> ConsumerBinding {
    ConsumerBinding {
        name,
        stream,
        filter,
    }
}

/// Consumers an earlier release declared and this one no longer reads through, with the
/// stream they are on: `xinfang streams declare` removes them (and their backstops), so no
/// backlog grows behind a consumer nobody reads.
pub const RETIRED_CONSUMERS: [(&str, &str); 5] = [
    ("XINFANG_INTAKE", "statistics-intake"),
    ("XINFANG_INTAKE", "statistics-links"),
    ("XINFANG_INTAKE", "statistics-corrections"),
    ("XINFANG_ROUTING", "statistics-routing"),
    ("XINFANG_SUPERVISION", "statistics-supervision"),
];

/// The rebuild's own consumer for one of statistics' bindings.
pub fn rebuild_consumer(binding: &ConsumerBinding) -> String {
    format!("{}-rebuild", binding.name)
}

pub const INTAKE: ServiceBinding = ServiceBinding {
    service: "intake",
    publishes: Some(INTAKE_STREAM),
    queue: Some(INTAKE_TAKES_SUBMISSIONS),
    consumes: &[
        INTAKE_TAKES_ROUTED,
        INTAKE_TAKES_DIRECTORY,
        INTAKE_TAKES_FINAL,
        INTAKE_TAKES_RECUSALS,
    ],
    rebuilds: false,
};

pub const ROUTING: ServiceBinding = ServiceBinding {
    service: "routing",
    publishes: Some(ROUTING_STREAM),
    queue: None,
    consumes: &[
        ROUTING_TAKES_REGISTERED,
        ROUTING_TAKES_LINKS,
        ROUTING_TAKES_CORRECTIONS,
        ROUTING_TAKES_RECUSALS,
    ],
    rebuilds: false,
};

pub const SUPERVISION: ServiceBinding = ServiceBinding {
    service: "supervision",
    publishes: Some(SUPERVISION_STREAM),
    queue: None,
    consumes: &[
        SUPERVISION_TAKES_ROUTED,
        SUPERVISION_TAKES_REGISTERED,
        SUPERVISION_TAKES_LINKS,
    ],
    rebuilds: false,
};

pub const STATISTICS: ServiceBinding = ServiceBinding {
    service: "statistics",
    publishes: None,
    queue: None,
    consumes: &STATISTICS_TAKES,
    rebuilds: true,
};

pub const SERVICES: [ServiceBinding; 4] = [INTAKE, ROUTING, SUPERVISION, STATISTICS];

/// Where a consumer sets aside a message it cannot process: one subject per consumer,
/// so an operator sees whose poison it was.
pub fn dead_letter_subject(consumer: &str) -> String {
    format!("xinfang.v1.deadletter.{consumer}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn under(stream: StreamSpec, subject: &str) -> bool {
        subject.starts_with(stream.subjects.trim_end_matches('>'))
    }

    #[test]
    fn every_subject_falls_in_its_stream() {
        assert!(under(INTAKE_STREAM, PETITION_REGISTERED));
        assert!(under(
            ROUTING_STREAM,
            &petition_routed("xingping-dongcheng")
        ));
        assert!(under(ROUTING_STREAM, ANY_PETITION_ROUTED));
        assert!(under(ROUTING_STREAM, DIRECTORY_PUBLISHED));
        assert!(under(
            SUPERVISION_STREAM,
            &timeline_opened("xingping-dongcheng")
        ));
        assert!(under(SUPERVISION_STREAM, ANY_TIMELINE_OPENED));
        assert!(under(DEAD_LETTER_STREAM, &dead_letter_subject("routing")));
        assert!(under(
            SUBMISSION_STREAM,
            &submission_subject("online", "online-platform")
        ));
        assert!(under(SUBMISSION_STREAM, INTAKE_TAKES_SUBMISSIONS.filter));
        // A receipt holds the query code: no stream keeps it.
        for stream in STREAMS {
            assert!(!under(stream, &receipt_subject("online-platform", "r")));
            assert!(!under(stream, ANY_RECEIPT));
        }
        assert!(under(
            ADVISORY_STREAM,
            &max_deliveries_advisory(INTAKE_STREAM.name, "routing")
        ));
    }

    #[test]
    fn the_unit_code_is_one_token_of_the_subject() {
        let subject = petition_routed("xingping-jiwei");
        assert_eq!(subject.split('.').nth(4), Some("xingping-jiwei"));
        let subject = timeline_opened("xingping-jiwei");
        assert_eq!(subject.split('.').nth(4), Some("xingping-jiwei"));
    }
}
