//! Routing's tables: one decision per case with its earlier revisions, the directory's
//! revisions and category tables, and the directories it announced.

pub mod category_table;
pub mod decision;
pub mod linked_case;
pub mod pending_correction;
pub mod publication;
pub mod revision;
pub mod unit_directory;
