//! Intake's own tables. Nobody else reads them: other services learn of petitions from
//! events and ask intake over gRPC.

pub mod accused_person;
pub mod attachment;
pub mod case_number_sequence;
pub mod case_number_void;
pub mod final_matter;
pub mod known_unit;
pub mod petition;
pub mod petition_correction;
pub mod petition_scope;
pub mod petitioner;
