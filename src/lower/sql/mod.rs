//! SQL migrations for every database target of the spec, in the layout `sqlx migrate`
//! reads: `migrations/<dialect>/<version>_<name>.{up,down}.sql`, plus the schema snapshot
//! (`migrations/schema.json`) the next build diffs against.

pub mod ddl;
pub mod dialect;
pub mod schema;

use std::fmt::Write as _;

pub use dialect::Dialect;
pub use schema::{Schema, schema};

use crate::ir::{Database, Ir};

/// A reversible migration for one dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub up: String,
    pub down: String,
    /// What the dialect could not express (a GIN index on SQLite), for the build to report.
    pub skipped: Vec<String>,
}

/// The dialects a spec targets.
pub fn dialects(ir: &Ir) -> Vec<Dialect> {
    ir.service
        .databases
        .iter()
        .map(|d| match d {
            Database::Postgres => Dialect::Postgres,
            Database::Sqlite => Dialect::Sqlite,
        })
        .collect()
}

/// The migration that creates `schema` from an empty database, and its reverse.
pub fn initial(schema: &Schema, dialect: Dialect) -> Migration {
    let mut up = Vec::new();
    let mut skipped = Vec::new();
    let mut functions: Vec<&str> = Vec::new();
    if dialect == Dialect::Postgres {
        for column in schema
            .tables
            .iter()
            .filter_map(|t| t.touch_on_update.as_deref())
        {
            if !functions.contains(&column) {
                functions.push(column);
                up.push(ddl::create_touch_function(column));
            }
        }
    }
    for t in &schema.tables {
        up.push(ddl::create_table(t, dialect));
        for i in &t.indexes {
            match ddl::create_index(i, t, dialect) {
                Some(sql) => up.push(sql),
                None => skipped.push(format!(
                    "index `{}` on `{}`: SQLite has no GIN indexes",
                    i.name, t.name
                )),
            }
        }
        if let Some(column) = &t.touch_on_update {
            up.extend(ddl::touch_trigger(t, column, dialect));
        }
    }
    let mut down: Vec<String> = schema
        .tables
        .iter()
        .rev()
        .map(|t| ddl::drop_table(t, dialect))
        .collect();
    down.extend(functions.iter().map(|c| ddl::drop_touch_function(c)));
    Migration {
        up: script(&up),
        down: script(&down),
        skipped,
    }
}

/// Statements one per paragraph, each ended with `;`.
fn script(statements: &[String]) -> String {
    let mut out = String::new();
    for s in statements {
        let _ = writeln!(out, "{s};\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}
