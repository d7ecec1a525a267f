//! Rust code generated from `proto/` at build time, plus the names of the subjects and
//! streams the contracts travel on. Nothing here is edited by hand but `subjects`.

pub mod codes;
pub mod subjects;

/// Messages shared by every service, and the events.
pub mod v1 {
    tonic::include_proto!("xinfang.v1");
}

/// The intake service's gRPC API.
pub mod intake {
    pub mod v1 {
        tonic::include_proto!("xinfang.intake.v1");
    }
}

/// The routing service's gRPC API.
pub mod routing {
    pub mod v1 {
        tonic::include_proto!("xinfang.routing.v1");
    }
}

/// The supervision service's gRPC API.
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

/// An event message together with the name its consumers know it by.
///
/// The type name is the protobuf full name; it travels as the CloudEvents `ce-type` header
/// so that a consumer decodes the payload into the right message, and rejects what it does
/// not know.
pub trait Event: prost::Message + Default {
    const TYPE: &'static str;
}

impl Event for v1::PetitionRegistered {
    const TYPE: &'static str = "xinfang.v1.PetitionRegistered";
}

impl Event for v1::PetitionRouted {
    const TYPE: &'static str = "xinfang.v1.PetitionRouted";
}

impl Event for v1::TimelineOpened {
    const TYPE: &'static str = "xinfang.v1.TimelineOpened";
}
