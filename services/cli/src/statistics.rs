//! `xinfang statistics`: the figures' reports, and statistics' own upkeep.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use xinfang_proto::statistics::v1::{
    GetReportRequest, ReportFormat, ReportKind, statistics_service_client::StatisticsServiceClient,
};
use xinfang_statistics::rebuild::{RebuildArgs, rebuild};

use crate::connect::{Token, channel};
use crate::petitions::explain;

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    /// 信访要情: the weekly brief.
    WeeklyBrief,
    /// 半年工作总结.
    HalfYear,
    /// 年度工作报告 (Art 41).
    Annual,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// report.md and its charts (.svg).
    Markdown,
    Csv,
    /// An editable Word document.
    Docx,
}

#[derive(Subcommand)]
pub enum StatisticsCommand {
    /// Write a report (statistics' GetReport) into a folder: the brief, the half-year
    /// summary or the annual report, as Markdown with SVG charts, CSV or Word.
    Report {
        #[arg(long, value_enum)]
        kind: Kind,
        /// 2026-W05, 2026-03, 2026-H1, 2026, or 2026-01-01..2026-06-30.
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value = "markdown")]
        format: Format,
        /// The folder the files are written into (created if missing).
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// A formula version (v1, v2); the service's own when not given.
        #[arg(long, default_value = "")]
        formula: String,
        #[arg(
            long,
            env = "XINFANG_STATISTICS_URL",
            default_value = "http://127.0.0.1:50054"
        )]
        statistics_url: String,
        #[command(flatten)]
        token: Token,
    },
    /// Replay every stream statistics reads, from the start, into an empty database, with
    /// statistics' NATS user and consumers of its own. Its figures equal the live service's.
    Rebuild(Box<RebuildArgs>),
}

pub async fn run(command: StatisticsCommand) -> anyhow::Result<()> {
    match command {
        StatisticsCommand::Report {
            kind,
            period,
            format,
            out,
            formula,
            statistics_url,
            token,
        } => {
            let request = GetReportRequest {
                kind: match kind {
                    Kind::WeeklyBrief => ReportKind::WeeklyBrief,
                    Kind::HalfYear => ReportKind::HalfYearSummary,
                    Kind::Annual => ReportKind::Annual,
                } as i32,
                period,
                format: match format {
                    Format::Markdown => ReportFormat::Markdown,
                    Format::Csv => ReportFormat::Csv,
                    Format::Docx => ReportFormat::Docx,
                } as i32,
                as_of: None,
                formula_version: formula,
            };
            let report =
                StatisticsServiceClient::new(channel(&statistics_url, "statistics", &token).await?)
                    .get_report(request)
                    .await
                    .map_err(explain)?
                    .into_inner();
            std::fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
            println!(
                "{} ({}, {})",
                report.title, report.period, report.formula_version
            );
            for file in report.files {
                // The service names its files; a name is never a path.
                let name = std::path::Path::new(&file.name)
                    .file_name()
                    .context("a report file without a name")?;
                let path = out.join(name);
                std::fs::write(&path, &file.content)
                    .with_context(|| format!("write {}", path.display()))?;
                println!("  {}", path.display());
            }
            Ok(())
        }
        StatisticsCommand::Rebuild(args) => {
            let rebuilt = rebuild(&args).await?;
            println!(
                "rebuilt {} cases from {} facts in {:.1} s",
                rebuilt.cases,
                rebuilt.facts,
                rebuilt.elapsed.as_secs_f64()
            );
            Ok(())
        }
    }
}
