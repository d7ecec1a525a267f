//! Supervision's tables: each case with its stage, its clocks and its history.

pub mod case;
pub mod case_upstream;
pub mod clock;
pub mod deadline_alert;
pub mod holiday_notice;
pub mod inspection;
pub mod leader;
pub mod leader_case;
pub mod letter;
pub mod letter_sequence;
pub mod reception;
pub mod step;
pub mod watch_case;
pub mod watch_entry;
