//! Routing's tables: one decision per case. The directory itself lives in its file.

pub mod decision;
