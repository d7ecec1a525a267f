//! What a submission on the surge channel is, before anything is stored: which system sent
//! it on which channel (from the subject, which the system's NATS user cannot choose), and
//! whether its petition belongs on that channel. Plain values in and out.

use xinfang_platform::grpc::FieldViolation;
use xinfang_proto::intake::v1::{
    FieldProblem, SubmissionAccepted, SubmissionReceipt, SubmissionRejected,
    submission_receipt::Outcome,
};
use xinfang_proto::v1 as proto;

/// The channel token a system submits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmissionChannel {
    /// Petitions that came in by this channel at this bureau (or its online platform).
    Local(proto::Channel),
    /// Petitions a higher bureau forwarded or assigned down, whatever their channel.
    Upstream,
}

/// Where a submission came from: `xinfang.v1.submissions.<channel>.<system>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub channel_token: String,
    pub system: String,
}

impl Sender {
    /// `None` for a subject that is not a submission's (the stream takes only
    /// `xinfang.v1.submissions.>`, but a token may be missing or extra).
    pub fn of_subject(subject: &str) -> Option<Self> {
        let rest = subject.strip_prefix("xinfang.v1.submissions.")?;
        let (channel_token, system) = rest.split_once('.')?;
        if system.is_empty() || system.contains('.') {
            return None;
        }
        Some(Self {
            channel_token: channel_token.to_owned(),
            system: system.to_owned(),
        })
    }

    pub fn channel(&self) -> Option<SubmissionChannel> {
        use proto::Channel::*;
        Some(match self.channel_token.as_str() {
            "online" => SubmissionChannel::Local(Online),
            "letter" => SubmissionChannel::Local(Letter),
            "visit" => SubmissionChannel::Local(Visit),
            "phone" => SubmissionChannel::Local(Phone),
            "leader-mailbox" => SubmissionChannel::Local(LeaderMailbox),
            "upstream" => SubmissionChannel::Upstream,
            _ => return None,
        })
    }
}

/// Fits the petition to the channel it was submitted on: a local channel's petition takes
/// that channel (and the local source) when it names none, and may not name another; a
/// higher bureau's must say which bureau sent it down. Every problem named at once.
pub fn fit_to_channel(
    channel: SubmissionChannel,
    petition: &mut proto::Petition,
) -> Vec<FieldViolation> {
    let mut problems = Vec::new();
    let level = petition.source.as_ref().map(|source| source.level());
    match channel {
        SubmissionChannel::Local(own) => {
            // The raw value: an unknown one is not the same as none.
            if petition.channel == 0 {
                petition.set_channel(own);
            } else if petition.channel != own as i32 {
                problems.push(FieldViolation::new(
                    "petition.channel",
                    format!(
                        "this subject takes {} petitions only; submit others on their own channel",
                        own.as_str_name()
                    ),
                ));
            }
            match level {
                None => {
                    petition.source = Some(proto::PetitionSource {
                        level: proto::SourceLevel::Local.into(),
                        ..Default::default()
                    })
                }
                Some(proto::SourceLevel::Local | proto::SourceLevel::Unspecified) => {}
                Some(_) => problems.push(FieldViolation::new(
                    "petition.source.level",
                    "a petition sent down by a higher bureau is submitted on the upstream channel",
                )),
            }
        }
        SubmissionChannel::Upstream => {
            if matches!(level, None | Some(proto::SourceLevel::Local)) {
                problems.push(FieldViolation::new(
                    "petition.source.level",
                    "the upstream channel takes petitions sent down by a higher bureau: PREFECTURE, PROVINCIAL or NATIONAL",
                ));
            }
        }
    }
    problems
}

pub fn accepted(
    request_id: &str,
    case_id: String,
    case_number: String,
    query_code: String,
    notices: Vec<String>,
) -> SubmissionReceipt {
    SubmissionReceipt {
        request_id: request_id.to_owned(),
        outcome: Some(Outcome::Accepted(SubmissionAccepted {
            case_id,
            case_number,
            query_code,
            notices,
        })),
    }
}

pub fn rejected(request_id: &str, problems: &[FieldViolation]) -> SubmissionReceipt {
    SubmissionReceipt {
        request_id: request_id.to_owned(),
        outcome: Some(Outcome::Rejected(SubmissionRejected {
            problems: problems
                .iter()
                .map(|problem| FieldProblem {
                    field: problem.field.clone(),
                    description: problem.description.clone(),
                })
                .collect(),
        })),
    }
}

/// The last token of the receipt's subject: the request id as sent when it is a UUID (no
/// UUID form holds a dot, a wildcard or a space, so it is one safe token the sender can
/// wait on), else `invalid`.
pub fn receipt_token(request_id: &str) -> &str {
    match uuid::Uuid::parse_str(request_id) {
        Ok(_) => request_id,
        Err(_) => "invalid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_names_the_channel_and_the_system() {
        let sender = Sender::of_subject("xinfang.v1.submissions.online.online-platform")
            .expect("a submission's subject");
        assert_eq!(sender.system, "online-platform");
        assert_eq!(
            sender.channel(),
            Some(SubmissionChannel::Local(proto::Channel::Online))
        );
        assert_eq!(
            Sender::of_subject("xinfang.v1.submissions.upstream.shaanxi").and_then(|s| s.channel()),
            Some(SubmissionChannel::Upstream)
        );
        assert_eq!(Sender::of_subject("xinfang.v1.submissions.online"), None);
        assert_eq!(
            Sender::of_subject("xinfang.v1.submissions.online.a.b"),
            None
        );
        assert_eq!(
            Sender::of_subject("xinfang.v1.submissions.email.x").and_then(|s| s.channel()),
            None
        );
    }

    #[test]
    fn a_local_channel_fills_in_its_channel_and_the_local_source() {
        let mut petition = proto::Petition::default();
        let problems = fit_to_channel(
            SubmissionChannel::Local(proto::Channel::Online),
            &mut petition,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(petition.channel(), proto::Channel::Online);
        assert_eq!(
            petition.source.map(|s| s.level()),
            Some(proto::SourceLevel::Local)
        );
    }

    #[test]
    fn a_local_channel_refuses_another_channel_and_an_upstream_source() {
        let mut petition = proto::Petition {
            channel: proto::Channel::Letter.into(),
            source: Some(proto::PetitionSource {
                level: proto::SourceLevel::National.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let problems = fit_to_channel(
            SubmissionChannel::Local(proto::Channel::Online),
            &mut petition,
        );
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["petition.channel", "petition.source.level"]);
    }

    #[test]
    fn the_upstream_channel_takes_only_petitions_sent_down() {
        let mut local = proto::Petition::default();
        let problems = fit_to_channel(SubmissionChannel::Upstream, &mut local);
        assert_eq!(problems[0].field, "petition.source.level");
        let mut provincial = proto::Petition {
            channel: proto::Channel::Visit.into(),
            source: Some(proto::PetitionSource {
                level: proto::SourceLevel::Provincial.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(fit_to_channel(SubmissionChannel::Upstream, &mut provincial).is_empty());
        assert_eq!(provincial.channel(), proto::Channel::Visit);
    }

    #[test]
    fn a_receipt_subject_never_takes_a_token_the_sender_made_up() {
        assert_eq!(receipt_token("not a uuid >"), "invalid");
        assert_eq!(receipt_token("a.b.c"), "invalid");
        assert_eq!(
            receipt_token("6F9619FF-8B86-D011-B42D-00C04FC964FF"),
            "6F9619FF-8B86-D011-B42D-00C04FC964FF"
        );
    }
}
