//! Channels and source levels were stored under their protobuf names; every service now
//! stores the same short domain codes (the keys of the overview's breakdowns).

use sea_orm_migration::prelude::*;
use xinfang_platform::migrations::respell;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        respell(manager, "case_fact", "channel", CHANNELS).await?;
        respell(manager, "case_fact", "source_level", SOURCE_LEVELS).await
    }
}

const CHANNELS: &[(&str, &str)] = &[
    ("CHANNEL_ONLINE", "online"),
    ("CHANNEL_LETTER", "letter"),
    ("CHANNEL_VISIT", "visit"),
    ("CHANNEL_PHONE", "phone"),
    ("CHANNEL_LEADER_MAILBOX", "leader-mailbox"),
];

const SOURCE_LEVELS: &[(&str, &str)] = &[
    ("SOURCE_LEVEL_LOCAL", "local"),
    ("SOURCE_LEVEL_PREFECTURE", "prefecture"),
    ("SOURCE_LEVEL_PROVINCIAL", "provincial"),
    ("SOURCE_LEVEL_NATIONAL", "national"),
];
