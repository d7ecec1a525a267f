//! The legal calendar as data: one row per year's holiday notice, with the notice it came
//! from. Seeded with the notices this build carries (holiday-cn, MIT); an administrator
//! loads later years over gRPC.

use sea_orm_migration::prelude::*;

use crate::calendar::OFFICIAL_NOTICES;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HolidayNotice {
    Table,
    Year,
    Days,
    Source,
    LoadedAt,
    LoadedBy,
}

/// Where the bundled notices come from (see `data/holiday-cn/README.md`).
pub const BUNDLED_SOURCE: &str =
    "国务院办公厅节假日安排通知, as compiled by holiday-cn (MIT), bundled with this build";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HolidayNotice::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(HolidayNotice::Year)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(HolidayNotice::Days).text().not_null())
                    .col(ColumnDef::new(HolidayNotice::Source).string().not_null())
                    .col(
                        ColumnDef::new(HolidayNotice::LoadedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(HolidayNotice::LoadedBy).string().not_null())
                    .to_owned(),
            )
            .await?;
        let loaded_at = time::OffsetDateTime::now_utc();
        for text in OFFICIAL_NOTICES {
            let year = crate::holidays::notice_year(text)
                .map_err(|error| DbErr::Migration(format!("bundled notice: {error}")))?;
            let insert = Query::insert()
                .into_table(HolidayNotice::Table)
                .columns([
                    HolidayNotice::Year,
                    HolidayNotice::Days,
                    HolidayNotice::Source,
                    HolidayNotice::LoadedAt,
                    HolidayNotice::LoadedBy,
                ])
                .values_panic([
                    year.into(),
                    text.into(),
                    BUNDLED_SOURCE.into(),
                    loaded_at.into(),
                    "migration".into(),
                ])
                .to_owned();
            manager.exec_stmt(insert).await?;
        }
        Ok(())
    }
}
