//! A database of the test's own: a fresh PostgreSQL database, or a SQLite file in a
//! temporary folder.

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database};
use tempfile::TempDir;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Postgres {
        admin_url: String,
        name: String,
    },
    Sqlite(
        #[allow(dead_code, reason = "held so the folder lives as long as the database")] TempDir,
    ),
}

impl TestDatabase {
    /// Creates `xinfang_test_<uuid>` on the server of `XINFANG_TEST_DATABASE_URL` (a URL to
    /// any database there, with the right to create databases) or of 127.0.0.1:5432.
    pub async fn postgres() -> anyhow::Result<Self> {
        let admin_url = std::env::var("XINFANG_TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
        Self::postgres_on(&admin_url).await
    }

    /// A fresh database on the server of `admin_url` (a private cluster, say).
    pub async fn postgres_on(admin_url: &str) -> anyhow::Result<Self> {
        let admin_url = admin_url.to_owned();
        let name = format!("xinfang_test_{}", uuid::Uuid::now_v7().simple());
        let admin = Database::connect(admin_url.as_str())
            .await
            .with_context(|| {
                format!("connect to PostgreSQL at {admin_url} (set XINFANG_TEST_DATABASE_URL)")
            })?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("create database {name}"))?;
        admin.close().await.ok();
        let url = replace_database(&admin_url, &name);
        Ok(Self {
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    pub fn sqlite() -> anyhow::Result<Self> {
        let folder = tempfile::tempdir().context("create a folder for SQLite")?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            folder.path().join("test.db").display()
        );
        Ok(Self {
            url,
            cleanup: Cleanup::Sqlite(folder),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    /// Drops a PostgreSQL test database. Drop cannot await, so a short-lived thread with its
    /// own runtime does it; a failure leaves a database behind, which `make test` clears.
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    let admin = Database::connect(admin_url.as_str()).await.ok()?;
                    admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await
                        .ok()
                })
            });
            let _ = dropped.join();
        }
    }
}

/// Swaps the database name in a PostgreSQL URL, keeping user, host and parameters.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn the_database_name_is_replaced_and_everything_else_kept() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            replace_database("postgres://u:p@db:5433/x?sslmode=disable", "t1"),
            "postgres://u:p@db:5433/t1?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://db:5432", "t1"),
            "postgres://db:5432/t1"
        );
    }
}
