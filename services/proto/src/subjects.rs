//! Subject and stream names: the one place they are spelled.
//!
//! Subjects are `xinfang.v1.<owning service>.<...>`. Each service publishes only under its
//! own prefix, into its own stream. Events a department may see will carry the responsible
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

/// Messages a consumer could not process, with the reason in a header.
pub const DEAD_LETTER_STREAM: StreamSpec = StreamSpec {
    name: "XINFANG_DEAD_LETTER",
    subjects: "xinfang.v1.deadletter.>",
    description: "poison messages set aside by consumers, with the reason",
};

/// A petition was registered with a case number.
pub const PETITION_REGISTERED: &str = "xinfang.v1.intake.petition.registered";

/// Where a consumer sets aside a message it cannot process: one subject per consumer,
/// so an operator sees whose poison it was.
pub fn dead_letter_subject(consumer: &str) -> String {
    format!("xinfang.v1.deadletter.{consumer}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_falls_in_its_stream() {
        let under = |stream: StreamSpec, subject: &str| {
            subject.starts_with(stream.subjects.trim_end_matches('>'))
        };
        assert!(under(INTAKE_STREAM, PETITION_REGISTERED));
        assert!(under(DEAD_LETTER_STREAM, &dead_letter_subject("routing")));
    }
}
