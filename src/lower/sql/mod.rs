//! SQL migrations for every database target of the spec, in the layout `sqlx migrate`
//! reads: `migrations/<dialect>/<version>_<name>.{up,down}.sql`, plus the schema snapshot
//! (`migrations/schema.json`) the next build diffs against.

pub mod ddl;
pub mod dialect;
pub mod diff;
pub mod migrate;
pub mod schema;

use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use dialect::Dialect;
pub use schema::{Schema, schema};

use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Database, Ir};
use crate::lower::{Output, OutputFile, Owner};
use diff::{Renames, SchemaDiff};
use migrate::Backfill;

/// A reversible migration for one dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub up: String,
    pub down: String,
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
    let (tables, deferred) = defer_forward_references(schema, dialect);
    let create = SchemaDiff {
        created: tables,
        ..SchemaDiff::default()
    };
    let (mut up, _) = migrate::statements(&create, dialect, Backfill::No);
    up.extend(deferred.iter().map(|(t, fk)| ddl::add_foreign_key(t, fk)));
    let mut down: Vec<String> = deferred
        .iter()
        .map(|(t, fk)| {
            format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                dialect::quote_ident(&t.name),
                dialect::quote_ident(&fk.name)
            )
        })
        .collect();
    let drop = SchemaDiff {
        dropped: schema.tables.iter().rev().cloned().collect(),
        ..SchemaDiff::default()
    };
    down.extend(migrate::statements(&drop, dialect, Backfill::No).0);
    if dialect == Dialect::Postgres {
        let mut columns: Vec<&str> = schema
            .tables
            .iter()
            .filter_map(|t| t.touch_on_update.as_deref())
            .collect();
        columns.sort_unstable();
        columns.dedup();
        down.extend(columns.into_iter().map(ddl::drop_touch_function));
    }
    Migration {
        up: script(&up, false, &[]),
        down: script(&down, false, &[]),
    }
}

/// PostgreSQL checks a foreign key's target when the constraint is created. In a reference
/// cycle (allowed when one reference is optional) some target comes later in the order, so
/// those keys are added once every table exists. SQLite resolves targets lazily.
fn defer_forward_references(
    schema: &Schema,
    dialect: Dialect,
) -> (Vec<schema::Table>, Vec<(schema::Table, schema::ForeignKey)>) {
    let mut deferred = Vec::new();
    let mut tables = Vec::new();
    for (i, t) in schema.tables.iter().enumerate() {
        let mut table = t.clone();
        if dialect == Dialect::Postgres {
            let later: Vec<&str> = schema.tables[i + 1..]
                .iter()
                .map(|l| l.name.as_str())
                .collect();
            let (forward, kept): (Vec<_>, Vec<_>) = table
                .foreign_keys
                .into_iter()
                .partition(|fk| later.contains(&fk.ref_table.as_str()));
            table.foreign_keys = kept;
            deferred.extend(forward.into_iter().map(|fk| (t.clone(), fk)));
        }
        tables.push(table);
    }
    (tables, deferred)
}

/// What a build's migrations will be, decided: every check that can refuse the change
/// from the committed schema has run (and rendered that change's migration, if any). What
/// is left, the initial migrations and the snapshot, cannot fail, so `svcc build` renders
/// it beside the Rust lowering instead of before it.
pub struct Plan {
    next: Schema,
    /// Dialects without migrations yet, which start from the whole current schema.
    initial: Vec<Dialect>,
    /// The migration from the committed schema, when it changed.
    evolution: Output,
    warnings: Vec<Diagnostic>,
}

impl Plan {
    /// The migration files and the schema snapshot.
    pub fn render(self) -> Built {
        let mut output = self.evolution;
        output.insert(
            "migrations/schema.json".to_string(),
            generated(snapshot_json(&self.next)),
        );
        for dialect in self.initial {
            let migration = initial(&self.next, dialect);
            insert_pair(&mut output, dialect, 1, "initial", migration);
        }
        Built {
            output,
            warnings: self.warnings,
        }
    }
}

/// The files of `migrations/` for this build: `plan`, rendered.
pub fn migrations(
    ir: &Ir,
    previous: Option<&Schema>,
    existing: &BTreeMap<Dialect, Vec<u32>>,
) -> Result<Built, Vec<Diagnostic>> {
    plan(ir, previous, existing).map(Plan::render)
}

/// The migrations of this build: when the schema differs from `previous` (the committed
/// snapshot), a new reversible migration per database target numbered after `existing`;
/// an initial one for each target without any; and the snapshot itself. Destructive steps
/// the spec does not acknowledge are errors, and nothing is written.
pub fn plan(
    ir: &Ir,
    previous: Option<&Schema>,
    existing: &BTreeMap<Dialect, Vec<u32>>,
) -> Result<Plan, Vec<Diagnostic>> {
    let next = schema(ir);
    let mut evolution = Output::new();
    let has_history = |d: Dialect| existing.get(&d).is_some_and(|v| !v.is_empty());
    if previous.is_none() && existing.values().any(|v| !v.is_empty()) {
        return Err(vec![missing_snapshot(ir)]);
    }
    // A target without migrations yet (a new spec, or a database added to `databases`)
    // starts from the whole current schema.
    let initial: Vec<Dialect> = (dialects(ir).into_iter())
        .filter(|d| !has_history(*d))
        .collect();
    let mut new_indexes: Vec<(&schema::Table, &schema::Index)> = Vec::new();
    if initial.contains(&Dialect::Sqlite) {
        new_indexes.extend(
            next.tables
                .iter()
                .flat_map(|t| t.indexes.iter().map(move |i| (t, i))),
        );
    }
    let Some(prev) = previous else {
        let warnings = skipped_on_sqlite(ir, new_indexes.into_iter());
        return Ok(Plan {
            next,
            initial,
            evolution,
            warnings,
        });
    };
    let renames = Renames::declared(prev, &next);
    let forward = diff::diff(prev, &next, &renames);
    let evolving: Vec<Dialect> = dialects(ir)
        .into_iter()
        .filter(|d| has_history(*d))
        .collect();
    if !forward.is_empty() && !evolving.is_empty() {
        let version = existing.values().flatten().max().copied().unwrap_or(0) + 1;
        evolve(
            ir,
            Evolution {
                prev,
                next: &next,
                renames: &renames,
                forward: &forward,
            },
            version,
            &evolving,
            &mut evolution,
        )?;
        if evolving.contains(&Dialect::Sqlite) {
            new_indexes.extend(
                forward
                    .created
                    .iter()
                    .flat_map(|t| t.indexes.iter().map(move |i| (t, i))),
            );
            new_indexes.extend(
                forward
                    .altered
                    .iter()
                    .flat_map(|d| d.added_indexes.iter().map(move |i| (&d.after, i))),
            );
        }
    }
    let warnings = skipped_on_sqlite(ir, new_indexes.into_iter());
    Ok(Plan {
        next,
        initial,
        evolution,
        warnings,
    })
}

/// A change from the committed schema to the spec's.
struct Evolution<'a> {
    prev: &'a Schema,
    next: &'a Schema,
    renames: &'a Renames,
    forward: &'a SchemaDiff,
}

/// Migration `version` for each target that has a history; destructive steps must be
/// acknowledged.
fn evolve(
    ir: &Ir,
    e: Evolution<'_>,
    version: u32,
    dialects: &[Dialect],
    out: &mut Output,
) -> Result<(), Vec<Diagnostic>> {
    let steps = destructive_steps(e.forward);
    let errors: Vec<Diagnostic> = steps
        .iter()
        .filter(|(key, _)| !ir.service.acknowledged.contains(key))
        .map(|(key, what)| unacknowledged(ir, key, what))
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let notes: Vec<String> = steps
        .iter()
        .map(|(key, what)| format!("destructive, acknowledged as \"{key}\": {what}"))
        .collect();
    let backward = diff::diff(e.next, e.prev, &e.renames.reversed());
    for &dialect in dialects {
        let (up, up_rebuilds) = migrate::statements(e.forward, dialect, Backfill::No);
        let (down, down_rebuilds) = migrate::statements(&backward, dialect, Backfill::ZeroValues);
        let m = Migration {
            up: script(&up, up_rebuilds, &notes),
            down: script(&down, down_rebuilds, &[]),
        };
        insert_pair(out, dialect, version, &slug(e.forward), m);
    }
    Ok(())
}

/// The files of a build, and what it could not do on every target.
#[derive(Debug)]
pub struct Built {
    pub output: Output,
    pub warnings: Vec<Diagnostic>,
}

/// New GIN indexes, which SQLite has no equivalent of: the SQLite migration leaves them out.
fn skipped_on_sqlite<'t>(
    ir: &Ir,
    indexes: impl Iterator<Item = (&'t schema::Table, &'t schema::Index)>,
) -> Vec<Diagnostic> {
    if !dialects(ir).contains(&Dialect::Sqlite) {
        return Vec::new();
    }
    indexes
        .filter(|(_, i)| i.gin)
        .map(|(t, i)| {
            let entity = ir.entities.iter().find(|e| e.table == t.name);
            let span = entity.and_then(|e| e.indexes.iter().find(|x| x.name == i.name)).map_or(ir.service.span, |x| x.span);
            let mut d = Diagnostic::error(Code::SKIPPED_ON_SQLITE, span, format!("index `{}` is not created on SQLite", i.name))
                .with_label("GIN index")
                .with_help("SQLite has no GIN indexes; queries on this column scan the table there. PostgreSQL gets the index.");
            d.severity = crate::diagnostics::Severity::Warning;
            d
        })
        .collect()
}

/// The snapshot as committed: pretty JSON, stable key order, trailing newline.
pub fn snapshot_json(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Reads a committed snapshot; `None` when it is not one this svcc wrote.
pub fn parse_snapshot(text: &str) -> Option<Schema> {
    serde_json::from_str::<Schema>(text)
        .ok()
        .filter(|s| s.format == schema::FORMAT)
}

fn insert_pair(out: &mut Output, dialect: Dialect, version: u32, slug: &str, m: Migration) {
    let base = format!("migrations/{}/{version:04}_{slug}", dialect.dir());
    out.insert(format!("{base}.up.sql"), generated(m.up));
    out.insert(format!("{base}.down.sql"), generated(m.down));
}

fn generated(contents: String) -> OutputFile {
    OutputFile {
        contents,
        owner: Owner::Generated,
    }
}

/// A file name for a migration from its first change: `add_reviews`, `alter_orders`.
fn slug(d: &SchemaDiff) -> String {
    let first = d
        .created
        .first()
        .map(|t| format!("create_{}", t.name))
        .or_else(|| d.altered.first().map(|t| format!("alter_{}", t.after.name)))
        .or_else(|| d.dropped.first().map(|t| format!("drop_{}", t.name)))
        .unwrap_or_else(|| "update".to_string());
    let more = d.created.len() + d.altered.len() + d.dropped.len() > 1;
    if more {
        format!("{first}_and_more")
    } else {
        first
    }
}

/// Steps that can lose data or fail on existing rows, keyed as the spec acknowledges them.
fn destructive_steps(d: &SchemaDiff) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = d
        .dropped
        .iter()
        .map(|t| (t.name.clone(), format!("drops table `{}`", t.name)))
        .collect();
    for t in &d.altered {
        let table = &t.after.name;
        if t.primary_key_changed {
            out.push((
                table.clone(),
                format!("changes the primary key of `{table}`"),
            ));
        }
        for c in &t.dropped_columns {
            out.push((
                format!("{table}.{}", c.name),
                format!("drops column `{table}.{}`", c.name),
            ));
        }
        for (before, after) in &t.altered_columns {
            if let Some(why) = diff::narrowing(before, after) {
                out.push((
                    format!("{table}.{}", after.name),
                    format!("{why}: `{table}.{}`", after.name),
                ));
            }
        }
        for c in t
            .added_columns
            .iter()
            .filter(|c| !c.nullable && c.default.is_none() && !c.identity)
        {
            out.push((format!("{table}.{}", c.name), format!("adds required column `{table}.{}` without a default: fails if the table has rows", c.name)));
        }
    }
    out
}

fn unacknowledged(ir: &Ir, key: &str, what: &str) -> Diagnostic {
    let table = key.split('.').next().unwrap_or(key);
    let span = ir
        .entities
        .iter()
        .find(|e| e.table == table)
        .map_or(ir.service.span, |e| e.span);
    Diagnostic::error(Code::DESTRUCTIVE, span, format!("this change {what}"))
        .with_label("destructive migration step")
        .with_help(format!("if the data may go, acknowledge it in the service block: `migrations {{ acknowledge = [\"{key}\"] }}`; for a rename, use `@renamed_from(\"old_name\")`"))
}

fn missing_snapshot(ir: &Ir) -> Diagnostic {
    Diagnostic::error(
        Code::MISSING_SNAPSHOT,
        ir.service.span,
        "the output has migrations but no `migrations/schema.json`",
    )
    .with_label("cannot tell what the existing migrations created")
    .with_help(
        "restore `migrations/schema.json` from version control; svcc diffs the spec against it",
    )
}

/// Statements one per paragraph, each ended with `;`. A migration that rebuilds SQLite
/// tables runs outside sqlx's transaction, with foreign keys off and its own transaction.
fn script(statements: &[String], no_transaction: bool, notes: &[String]) -> String {
    let mut out = String::new();
    if no_transaction {
        out.push_str("-- no-transaction\n");
    }
    out.push_str(
        "-- Generated by svcc from the spec. Do not edit: change the spec and build again.\n",
    );
    for note in notes {
        let _ = writeln!(out, "-- {note}");
    }
    out.push('\n');
    let mut body: Vec<String> = Vec::new();
    for s in statements {
        // Shared trigger functions are created with each table; once per migration is enough.
        if !body.contains(s) {
            body.push(s.clone());
        }
    }
    if no_transaction {
        body.insert(0, "PRAGMA foreign_keys = OFF".into());
        body.insert(1, "BEGIN".into());
        body.push("PRAGMA foreign_key_check".into());
        body.push("COMMIT".into());
        body.push("PRAGMA foreign_keys = ON".into());
    }
    for s in &body {
        let _ = writeln!(out, "{s};\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}
