//! Supervision's tables: a timeline per case and its deadlines.

pub mod deadline;
pub mod timeline;
