//! The domain values every service shares, once: each beside its storage code (a short
//! lowercase word, the one spelling every service's tables and figures use) and its protobuf
//! value. Domain code matches on these enums, which have no "unspecified" value; the
//! protobuf value appears only at the edge. Declared here, beside the contract, so that two
//! services cannot spell one value two ways.

use crate::v1 as proto;

/// `domain_enum!(Name: xinfang_proto::v1::ProtoEnum, "what it is" { Variant = "code" / ProtoVariant, … })`
macro_rules! domain_enum {
    ($(#[$meta:meta])* $name:ident: $proto:path, $what:literal {
        $($variant:ident = $code:literal / $proto_variant:ident),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];

            /// The value as stored in the service's tables.
            pub const fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some(Self::$variant),)+ _ => None }
            }

            pub fn to_proto(self) -> $proto {
                use $proto as Proto;
                match self { $(Self::$variant => Proto::$proto_variant),+ }
            }

            /// Reads a protobuf enum field; zero (unset) is a missing field.
            pub fn from_proto(value: i32) -> Result<Self, &'static str> {
                use $proto as Proto;
                match Proto::try_from(value) {
                    $(Ok(Proto::$proto_variant) => Ok(Self::$variant),)+
                    Ok(_) => Err("is required"),
                    Err(_) => Err(concat!("is not a known ", $what)),
                }
            }
        }
    };
}

domain_enum!(
    /// How the petition reached the bureau.
    Channel: proto::Channel, "channel" {
        Online = "online" / Online,
        Letter = "letter" / Letter,
        Visit = "visit" / Visit,
        Phone = "phone" / Phone,
        LeaderMailbox = "leader-mailbox" / LeaderMailbox,
    }
);

domain_enum!(
    /// Which bureau first registered the petition.
    SourceLevel: proto::SourceLevel, "source level" {
        Local = "local" / Local,
        Prefecture = "prefecture" / Prefecture,
        Provincial = "provincial" / Provincial,
        National = "national" / National,
    }
);

domain_enum!(
    /// Where a petitioner went above this city, as the higher bureau sending it down reports
    /// (进京访, 赴省访, 赴咸访).
    EscalatedTo: proto::EscalatedTo, "escalation" {
        Beijing = "beijing" / Beijing,
        Province = "province" / Province,
        Prefecture = "prefecture" / Prefecture,
    }
);

domain_enum!(
    /// Forwarded (转送) or assigned (交办) by the higher bureau.
    UpstreamDisposition: proto::UpstreamDisposition, "disposition" {
        Forwarded = "forwarded" / Forwarded,
        Assigned = "assigned" / Assigned,
    }
);

domain_enum!(
    PetitionerKind: proto::PetitionerKind, "petitioner kind" {
        Person = "person" / Person,
        Organisation = "organisation" / Organisation,
    }
);

domain_enum!(
    /// What kind of organ a unit of the directory is.
    UnitKind: proto::UnitKind, "unit kind" {
        Bureau = "bureau" / Bureau,
        Town = "town" / Town,
        Street = "street" / Street,
        Village = "village" / Village,
        Community = "community" / Community,
        Department = "department" / Department,
        DisciplineCommission = "discipline-commission" / DisciplineCommission,
        PoliticalLegal = "political-legal" / PoliticalLegal,
        StatutoryBody = "statutory-body" / StatutoryBody,
        HigherBureau = "higher-bureau" / HigherBureau,
    }
);

domain_enum!(
    /// Which track the law puts a matter on (依法分类处理, Art 29–31).
    LegalTrack: proto::LegalTrack, "legal track" {
        Suggestion = "suggestion" / Suggestion,
        Accusation = "accusation" / Accusation,
        Appeal = "appeal" / Appeal,
        StatutoryChannel = "statutory-channel" / StatutoryChannel,
    }
);

/// The stored code of a track not classified yet (a case held for triage).
pub const UNCLASSIFIED: &str = "unclassified";

domain_enum!(
    /// What routing did with a case.
    Disposition: proto::RoutingDisposition, "routing disposition" {
        Forward = "forward" / Forward,
        Assign = "assign" / Assign,
        Triage = "triage" / Triage,
        Divert = "divert" / Divert,
    }
);

domain_enum!(
    /// Which legal clock a deadline belongs to.
    DeadlineKind: proto::DeadlineKind, "deadline kind" {
        Forward = "forward" / Forward,
        NoticeOfReceipt = "notice-of-receipt" / NoticeOfReceipt,
        Upstream = "upstream" / Upstream,
        Objection = "objection" / Objection,
        Handling = "handling" / Handling,
        ReviewRequest = "review-request" / ReviewRequest,
        ReviewDecision = "review-decision" / ReviewDecision,
        ReReviewRequest = "re-review-request" / ReReviewRequest,
        ReReviewDecision = "re-review-decision" / ReReviewDecision,
        Assignment = "assignment" / Assignment,
        LetterReply = "letter-reply" / LetterReply,
    }
);

impl DeadlineKind {
    /// A window in which someone *may* act (object, ask for review), rather than a duty:
    /// when it runs out it lapses, and nobody is overdue.
    pub fn is_window(self) -> bool {
        matches!(
            self,
            Self::Objection | Self::ReviewRequest | Self::ReReviewRequest
        )
    }
}

domain_enum!(
    /// The decision of a written opinion, a review or a re-review.
    ReplyDecision: proto::ReplyDecision, "reply decision" {
        Support = "support" / Support,
        Explain = "explain" / Explain,
        NotSupport = "not-support" / NotSupport,
    }
);

domain_enum!(
    /// The petitioner's evaluation of the outcome.
    Evaluation: proto::Evaluation, "evaluation" {
        Satisfied = "satisfied" / Satisfied,
        BasicallySatisfied = "basically-satisfied" / BasicallySatisfied,
        Dissatisfied = "dissatisfied" / Dissatisfied,
    }
);

domain_enum!(
    /// How a written document reached the petitioner (送达).
    ServiceMethod: proto::ServiceMethod, "service method" {
        InPerson = "in-person" / InPerson,
        Post = "post" / Post,
        Electronic = "electronic" / Electronic,
        LeftAtAddress = "left-at-address" / LeftAtAddress,
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_reads_back_from_its_code_and_its_protobuf_value() {
        for value in LegalTrack::ALL {
            assert_eq!(LegalTrack::from_code(value.code()), Some(*value));
            assert_eq!(LegalTrack::from_proto(value.to_proto().into()), Ok(*value));
        }
        for value in Channel::ALL {
            assert_eq!(Channel::from_code(value.code()), Some(*value));
            assert_eq!(Channel::from_proto(value.to_proto().into()), Ok(*value));
        }
    }

    #[test]
    fn the_unset_protobuf_value_is_missing_and_an_unknown_one_is_named() {
        assert_eq!(Disposition::from_proto(0), Err("is required"));
        assert_eq!(
            Disposition::from_proto(99),
            Err("is not a known routing disposition")
        );
    }
}
