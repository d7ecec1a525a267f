//! Statistics' read model: one row of facts per case, filled in from whichever events have
//! arrived (events of one case come on different streams, in any order); and the routings
//! the bureau found wrong.

pub mod case_fact;
pub mod case_source;
pub mod wrong_routing;
