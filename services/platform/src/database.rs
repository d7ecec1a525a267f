//! Connecting to a service's own database: SQLite (a file, for a laptop run) or PostgreSQL
//! (what a city runs), with the same code above it.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Opens a connection pool.
///
/// SQLite runs in WAL mode with `synchronous=FULL`, so a committed petition survives a
/// power cut, and with a single connection: SQLite allows one writer at a time, and one
/// connection turns lock contention into a queue instead of `database is locked` errors.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        // A ping on every checkout halves throughput (STACK.md); a broken connection
        // fails the statement instead, which callers retry.
        .test_before_acquire(false)
        // Well inside a consumer's 10 s ack wait: a batch that cannot get a connection
        // finds out, and pauses, before the broker would deliver it again.
        .acquire_timeout(Duration::from_secs(3));
    if is_sqlite(url) {
        create_sqlite_folder(url)?;
        options
            .max_connections(1)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|sqlite| {
                sqlite
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    // Freed pages are zeroed: personal data a row held (before it was
                    // sealed, say) does not linger in the file.
                    .pragma("secure_delete", "ON")
            });
    } else {
        options.max_connections(max_connections.max(1));
    }
    Database::connect(options).await
}

/// Whether an error says the database could not be reached (rather than that it refused a
/// statement): then nothing can be written now, and retrying one message at a time is
/// pointless.
pub fn is_unavailable(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as SqlxError;
    match error {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error)) => {
            match error.as_ref() {
                SqlxError::Io(_)
                | SqlxError::Tls(_)
                | SqlxError::PoolTimedOut
                | SqlxError::PoolClosed
                | SqlxError::WorkerCrashed => true,
                // PostgreSQL's own words for "not now": connection exceptions (class 08),
                // and the server shutting down or starting (57P01–57P03).
                SqlxError::Database(error) => error.code().is_some_and(|code| {
                    code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether the error came from a pooled connection that died under the pool — the server
/// restarted, or cut it — rather than from the statement: another pooled connection, or a
/// fresh one, may well work. The pool does not test a connection before handing it out
/// (see [`connect`]); it drops one that failed, so after a restart each dead connection
/// fails once. A caller whose work is idempotent tries again at once, up to one more time
/// than the pool has connections, instead of passing a restart on to its client.
pub fn is_dead_connection(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as SqlxError;
    match error {
        DbErr::Conn(RuntimeErr::SqlxError(error))
        | DbErr::Exec(RuntimeErr::SqlxError(error))
        | DbErr::Query(RuntimeErr::SqlxError(error)) => match error.as_ref() {
            SqlxError::Io(_) | SqlxError::WorkerCrashed => true,
            // Connection exceptions, and "terminating connection due to administrator
            // command" (a restart, or pg_terminate_backend).
            SqlxError::Database(error) => error
                .code()
                .is_some_and(|code| code.starts_with("08") || code.as_ref() == "57P01"),
            _ => false,
        },
        _ => false,
    }
}

pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// SQLite creates the file but not the folder it sits in.
fn create_sqlite_folder(url: &str) -> Result<(), DbErr> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(folder) if !folder.as_os_str().is_empty() => std::fs::create_dir_all(folder)
            .map_err(|error| DbErr::Custom(format!("create folder {}: {error}", folder.display()))),
        _ => Ok(()),
    }
}
