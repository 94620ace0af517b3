//! Real databases for tests, driven through their command-line clients (`psql`, `sqlite3`),
//! so svcc's own tests need no database driver crates.
//!
//! PostgreSQL comes from `DATABASE_URL_TEST` (an admin URL; each test creates and drops its
//! own database). Without it the tests skip loudly, except under `CI=true`, where a missing
//! database is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A scratch database of one dialect.
pub enum Db {
    Postgres {
        admin: String,
        url: String,
        name: String,
    },
    Sqlite {
        path: PathBuf,
    },
}

impl Db {
    /// A fresh PostgreSQL database, or `None` (with a loud message) when none is configured.
    pub fn postgres(label: &str) -> Option<Db> {
        let Some(admin) = std::env::var("DATABASE_URL_TEST")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "DATABASE_URL_TEST is not set under CI=true: PostgreSQL tests cannot be skipped in CI"
            );
            eprintln!(
                "SKIPPED: PostgreSQL tests for `{label}` need DATABASE_URL_TEST (e.g. postgres://postgres@127.0.0.1:5432/postgres)"
            );
            return None;
        };
        let name = format!(
            "svcc_test_{}_{}_{}",
            label.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        psql(&admin, &format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        psql(&admin, &format!("CREATE DATABASE {name}")).unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(Db::Postgres {
            url: format!("{base}/{name}"),
            admin: admin.clone(),
            name,
        })
    }

    pub fn sqlite(label: &str) -> Db {
        let dir = std::env::temp_dir().join("svcc-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!(
            "{label}-{}-{}.db",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_file(&path);
        Db::Sqlite { path }
    }

    /// The URL a service connects with.
    pub fn url(&self) -> String {
        match self {
            Db::Postgres { url, .. } => url.clone(),
            Db::Sqlite { path } => format!("sqlite://{}", path.display()),
        }
    }

    pub fn dialect(&self) -> &'static str {
        match self {
            Db::Postgres { .. } => "postgres",
            Db::Sqlite { .. } => "sqlite",
        }
    }

    /// Runs a script; `Err` carries the client's error output.
    pub fn exec(&self, sql: &str) -> Result<(), String> {
        match self {
            Db::Postgres { url, .. } => psql(url, sql).map(drop),
            Db::Sqlite { path } => {
                sqlite(path, &format!("PRAGMA foreign_keys = ON;\n{sql}")).map(drop)
            }
        }
    }

    /// Rows of a query, columns separated by `|`.
    pub fn query(&self, sql: &str) -> Vec<String> {
        let out = match self {
            Db::Postgres { url, .. } => psql(url, sql),
            Db::Sqlite { path } => sqlite(path, sql),
        };
        out.unwrap_or_else(|e| panic!("query failed: {sql}\n{e}"))
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn apply(&self, file: &Path) {
        let sql = std::fs::read_to_string(file).unwrap();
        if let Err(e) = self.exec(&sql) {
            panic!("{} failed on {}:\n{e}", file.display(), self.dialect());
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        match self {
            Db::Postgres { admin, name, .. } => {
                let _ = psql(
                    admin,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
            }
            Db::Sqlite { path } => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

fn psql(url: &str, sql: &str) -> Result<String, String> {
    run(Command::new("psql").args([
        "-X",
        "-q",
        "-A",
        "-t",
        "-F",
        "|",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        url,
        "-c",
        sql,
    ]))
}

fn sqlite(path: &Path, sql: &str) -> Result<String, String> {
    run(Command::new("sqlite3")
        .args(["-bail", "-batch", "-separator", "|"])
        .arg(path)
        .arg(sql))
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
