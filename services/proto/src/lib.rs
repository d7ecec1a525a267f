//! Rust code generated from `proto/` at build time, plus the names of the subjects and
//! streams the contracts travel on. Nothing here is edited by hand but `subjects`.

pub mod codes;
pub mod subjects;
pub mod vocabulary;

/// Messages shared by every service's API and events.
pub mod v1 {
    tonic::include_proto!("xinfang.v1");
}

/// The intake service's gRPC API and events.
pub mod intake {
    pub mod v1 {
        tonic::include_proto!("xinfang.intake.v1");
    }
}

/// The routing service's gRPC API and events.
pub mod routing {
    pub mod v1 {
        tonic::include_proto!("xinfang.routing.v1");
    }
}

/// The supervision service's gRPC API and events.
pub mod supervision {
    pub mod v1 {
        tonic::include_proto!("xinfang.supervision.v1");
    }
}

/// The statistics service's gRPC API.
pub mod statistics {
    pub mod v1 {
        tonic::include_proto!("xinfang.statistics.v1");
    }
}

/// The encoded descriptor set of every contract, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/xinfang_descriptor.bin"));

/// A message published as an event.
///
/// Its type is its protobuf full name (`xinfang.intake.v1.PetitionRegistered`): it travels
/// as the CloudEvents `ce-type` header so that a consumer decodes the payload into the right
/// message, and rejects what it does not know. Each event lives in the package of the
/// service that publishes it, next to that service's API.
pub trait Event: prost::Message + prost::Name + Default {}

pub use prost::Name;

impl Event for intake::v1::PetitionRegistered {}
impl Event for intake::v1::UpstreamLinked {}
impl Event for intake::v1::PetitionCorrected {}
impl Event for routing::v1::PetitionRouted {}
impl Event for routing::v1::DirectoryPublished {}
impl Event for supervision::v1::TimelineOpened {}
impl Event for supervision::v1::CaseAdvanced {}
impl Event for supervision::v1::MatterFinal {}
impl Event for supervision::v1::DeadlineMoved {}
impl Event for supervision::v1::DeadlineAlerted {}
impl Event for supervision::v1::LetterIssued {}
impl Event for supervision::v1::LeaderCaseChanged {}
impl Event for supervision::v1::WatchListChanged {}
impl Event for supervision::v1::InspectionRecorded {}
impl Event for supervision::v1::RecusalChanged {}
impl Event for supervision::v1::ReceptionRecorded {}
