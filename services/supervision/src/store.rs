//! Supervision's tables: each case with its stage, its clocks and its history.

pub mod case;
pub mod clock;
pub mod step;
pub mod holiday_notice;
