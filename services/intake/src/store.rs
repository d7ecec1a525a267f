//! Intake's own tables. Nobody else reads them: other services learn of petitions from
//! events and ask intake over gRPC.

pub mod case_number_sequence;
pub mod case_number_void;
pub mod petition;
pub mod petition_scope;
pub mod petitioner;
