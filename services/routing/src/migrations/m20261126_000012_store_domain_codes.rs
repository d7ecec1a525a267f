//! Dispositions and tracks were stored under their protobuf names; every service now stores
//! the same short domain codes.

use sea_orm_migration::prelude::*;
use xinfang_platform::migrations::respell;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        respell(manager, "routing_decision", "disposition", DISPOSITIONS).await?;
        respell(manager, "routing_decision", "track", TRACKS).await
    }
}

const DISPOSITIONS: &[(&str, &str)] = &[
    ("ROUTING_DISPOSITION_FORWARD", "forward"),
    ("ROUTING_DISPOSITION_ASSIGN", "assign"),
    ("ROUTING_DISPOSITION_TRIAGE", "triage"),
];

const TRACKS: &[(&str, &str)] = &[
    ("LEGAL_TRACK_UNSPECIFIED", "unclassified"),
    ("LEGAL_TRACK_SUGGESTION", "suggestion"),
    ("LEGAL_TRACK_ACCUSATION", "accusation"),
    ("LEGAL_TRACK_APPEAL", "appeal"),
    ("LEGAL_TRACK_STATUTORY_CHANNEL", "statutory-channel"),
];
