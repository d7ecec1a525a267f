//! Supervision's settings: flags or environment variables, with defaults for `make run`.

use std::net::SocketAddr;

use std::time::Duration;

use clap::{Args, Parser};
use xinfang_platform::config::{PlatformConfig, parse_duration};

use crate::letters::LetterSettings;
use crate::timers::TimerSettings;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "xinfang-supervision",
    about = "Runs every legal clock of a case",
    version
)]
pub struct Config {
    /// Supervision's own database: a SQLite file, or PostgreSQL.
    #[arg(
        long,
        env = "XINFANG_DATABASE_URL",
        default_value = "sqlite://.data/supervision.db?mode=rwc"
    )]
    pub database_url: String,
    /// Where the gRPC API listens.
    #[arg(long, env = "XINFANG_GRPC_LISTEN", default_value = "127.0.0.1:50053")]
    pub grpc_listen: SocketAddr,
    /// The bureau's own unit code (as in the directory): the subject of events about a
    /// case no unit has yet.
    #[arg(long, env = "XINFANG_BUREAU_CODE", default_value = "xfj")]
    pub bureau_code: String,
    #[command(flatten)]
    pub timers: TimerConfig,
    #[command(flatten)]
    pub letters: LetterConfig,
    #[command(flatten)]
    pub platform: PlatformConfig,
}

/// When deadline alarms ring.
#[derive(Debug, Clone, Args)]
pub struct TimerConfig {
    /// How often the timers look for alarms that are due.
    #[arg(long, env = "XINFANG_TIMER_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    pub timer_interval: Duration,
    /// Days before a due day that the approaching alarm rings, with a reminder letter.
    #[arg(long, env = "XINFANG_WARN_BEFORE_DAYS", default_value_t = 3)]
    pub warn_before_days: u16,
    /// Days past a due day that a case is supervised, with a supervision letter (the day
    /// after the due day brings the warning letter).
    #[arg(long, env = "XINFANG_SUPERVISE_AFTER_DAYS", default_value_t = 5)]
    pub supervise_after_days: u16,
}

/// How letters are numbered and answered.
#[derive(Debug, Clone, Args)]
pub struct LetterConfig {
    /// `{kind}` (交 提 警 督), `{year}` and `{serial}` are replaced.
    #[arg(
        long,
        env = "XINFANG_LETTER_NUMBER_PATTERN",
        default_value = "兴信{kind}〔{year}〕{serial}号"
    )]
    pub letter_number_pattern: String,
    /// Days a unit has to reply in writing to a reminder letter.
    #[arg(long, env = "XINFANG_REMINDER_REPLY_DAYS", default_value_t = 5)]
    pub reminder_reply_days: u16,
    /// … to a warning letter.
    #[arg(long, env = "XINFANG_WARNING_REPLY_DAYS", default_value_t = 5)]
    pub warning_reply_days: u16,
    /// … to a supervision letter.
    #[arg(long, env = "XINFANG_SUPERVISION_REPLY_DAYS", default_value_t = 10)]
    pub supervision_reply_days: u16,
    /// Days an assignment letter (交办函) gives the unit to report the result.
    #[arg(long, env = "XINFANG_ASSIGNMENT_DAYS", default_value_t = 30)]
    pub assignment_days: u16,
}

impl TimerConfig {
    pub fn settings(&self) -> TimerSettings {
        TimerSettings {
            interval: self.timer_interval,
            warn_before_days: self.warn_before_days,
            supervise_after_days: self.supervise_after_days,
        }
    }
}

impl LetterConfig {
    pub fn settings(&self) -> LetterSettings {
        LetterSettings {
            number_pattern: self.letter_number_pattern.clone(),
            reminder_reply_days: self.reminder_reply_days,
            warning_reply_days: self.warning_reply_days,
            supervision_reply_days: self.supervision_reply_days,
            assignment_days: self.assignment_days,
        }
    }
}
