//! Routing's tables: one decision per case, and the directories it announced. The
//! directory itself lives in its file.

pub mod decision;
pub mod publication;
pub mod revision;
