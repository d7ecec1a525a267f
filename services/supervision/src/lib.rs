//! Supervision: the case's procedural timeline and every legal clock on it.
//!
//! Built so far: the deadline arithmetic ([`deadlines`]) over the official holiday calendar
//! ([`calendar`]), as pure functions. The service around them (consuming routing's events,
//! the timeline tables, letters) is the next step of the foundation.

pub mod calendar;
pub mod deadlines;
