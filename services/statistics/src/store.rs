pub mod case_record;
pub mod event_fact;
pub mod projection;
