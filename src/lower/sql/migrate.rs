//! A schema diff → the statements of an evolution migration, per dialect.
//!
//! PostgreSQL alters tables in place. SQLite can only rename tables and columns and add or
//! drop indexes in place; any other change rebuilds the table (create the new shape, copy
//! the rows, drop the old table, rename), which needs foreign keys off, so such a migration
//! runs outside sqlx's implicit transaction with its own `BEGIN`/`COMMIT`.

use super::ddl;
use super::dialect::{Dialect, quote_ident};
use super::diff::{SchemaDiff, TableDiff};
use super::schema::{Column, Table};

/// How to treat required columns that come back without a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backfill {
    /// Forward: adding one fails on a non-empty table; the spec acknowledged that.
    No,
    /// Down migrations restore structure: existing rows get the type's zero value.
    ZeroValues,
}

/// The statements of `diff`, and whether they must run outside a transaction.
pub fn statements(diff: &SchemaDiff, dialect: Dialect, backfill: Backfill) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut rebuilt = false;
    for t in &diff.created {
        out.extend(create_table_with_extras(t, dialect));
    }
    for d in &diff.altered {
        match dialect {
            Dialect::Postgres => out.extend(alter_postgres(d, backfill)),
            Dialect::Sqlite if d.is_light() => out.extend(alter_sqlite_in_place(d)),
            Dialect::Sqlite => {
                rebuilt = true;
                out.extend(rebuild_sqlite(d, backfill));
            }
        }
    }
    for t in &diff.dropped {
        out.push(ddl::drop_table(t, dialect));
    }
    (out, rebuilt)
}

/// A table with its indexes and update trigger (and, on PostgreSQL, the trigger function).
pub fn create_table_with_extras(t: &Table, dialect: Dialect) -> Vec<String> {
    let mut out = vec![ddl::create_table(t, dialect)];
    out.extend(
        t.indexes
            .iter()
            .filter_map(|i| ddl::create_index(i, t, dialect)),
    );
    if let Some(column) = &t.touch_on_update {
        if dialect == Dialect::Postgres {
            out.push(ddl::create_touch_function(column));
        }
        out.extend(ddl::touch_trigger(t, column, dialect));
    }
    out
}

fn alter_postgres(d: &TableDiff, backfill: Backfill) -> Vec<String> {
    let (before, after) = (&d.before, &d.after);
    let table = quote_ident(&after.name);
    let mut out = Vec::new();
    if d.renamed {
        out.push(format!(
            "ALTER TABLE {} RENAME TO {table}",
            quote_ident(&before.name)
        ));
    }
    if d.trigger_changed
        && let Some(column) = &before.touch_on_update
    {
        out.push(format!(
            "DROP TRIGGER IF EXISTS {} ON {table}",
            quote_ident(&format!("trg_{}_{column}", before.name))
        ));
    }
    out.extend(
        d.dropped_indexes
            .iter()
            .map(|i| format!("DROP INDEX {}", quote_ident(&i.name))),
    );
    let dropped_constraints = d
        .dropped_foreign_keys
        .iter()
        .map(|f| &f.name)
        .chain(d.dropped_checks.iter().map(|c| &c.name));
    out.extend(
        dropped_constraints
            .map(|name| format!("ALTER TABLE {table} DROP CONSTRAINT {}", quote_ident(name))),
    );
    if d.primary_key_changed {
        out.push(format!(
            "ALTER TABLE {table} DROP CONSTRAINT {}",
            quote_ident(&format!("pk_{}", before.name))
        ));
    }
    out.extend(rename_columns(d, &table));
    out.extend(
        d.dropped_columns
            .iter()
            .map(|c| format!("ALTER TABLE {table} DROP COLUMN {}", quote_ident(&c.name))),
    );
    for c in &d.added_columns {
        out.extend(add_column_postgres(after, c, backfill));
    }
    for (b, a) in &d.altered_columns {
        out.extend(alter_column_postgres(&table, b, a));
    }
    if d.primary_key_changed {
        let keys: Vec<String> = after.primary_key.iter().map(|k| quote_ident(k)).collect();
        out.push(format!(
            "ALTER TABLE {table} ADD CONSTRAINT {} PRIMARY KEY ({})",
            quote_ident(&format!("pk_{}", after.name)),
            keys.join(", ")
        ));
    } else if d.renamed {
        out.push(format!(
            "ALTER TABLE {table} RENAME CONSTRAINT {} TO {}",
            quote_ident(&format!("pk_{}", before.name)),
            quote_ident(&format!("pk_{}", after.name))
        ));
    }
    out.extend(
        d.added_checks
            .iter()
            .map(|c| ddl::add_check(after, c, Dialect::Postgres)),
    );
    out.extend(
        d.added_foreign_keys
            .iter()
            .map(|f| ddl::add_foreign_key(after, f)),
    );
    out.extend(
        d.added_indexes
            .iter()
            .filter_map(|i| ddl::create_index(i, after, Dialect::Postgres)),
    );
    if d.trigger_changed
        && let Some(column) = &after.touch_on_update
    {
        out.push(ddl::create_touch_function(column));
        out.extend(ddl::touch_trigger(after, column, Dialect::Postgres));
    }
    out
}

fn add_column_postgres(t: &Table, c: &Column, backfill: Backfill) -> Vec<String> {
    let needs_fill =
        backfill == Backfill::ZeroValues && !c.nullable && c.default.is_none() && !c.identity;
    if !needs_fill {
        return vec![ddl::add_column(t, c, Dialect::Postgres)];
    }
    let prefix = format!("ALTER TABLE {}", quote_ident(&t.name));
    let col = quote_ident(&c.name);
    vec![
        format!(
            "{prefix} ADD COLUMN {col} {} NOT NULL DEFAULT {}",
            Dialect::Postgres.type_name(c.ty),
            Dialect::Postgres.zero_value(c.ty)
        ),
        format!("{prefix} ALTER COLUMN {col} DROP DEFAULT"),
    ]
}

fn alter_column_postgres(table: &str, before: &Column, after: &Column) -> Vec<String> {
    let col = quote_ident(&after.name);
    let prefix = format!("ALTER TABLE {table} ALTER COLUMN {col}");
    let mut out = Vec::new();
    if before.default.is_some() && before.default != after.default {
        out.push(format!("{prefix} DROP DEFAULT"));
    }
    if before.ty != after.ty {
        let ty = Dialect::Postgres.type_name(after.ty);
        out.push(format!("{prefix} TYPE {ty} USING {col}::{ty}"));
    }
    // Rows holding NULL take the new default before the column becomes required.
    if let (true, false, Some(d)) = (before.nullable, after.nullable, &after.default) {
        out.push(format!(
            "UPDATE {table} SET {col} = {} WHERE {col} IS NULL",
            Dialect::Postgres.default_sql(d)
        ));
    }
    if before.nullable != after.nullable {
        out.push(format!(
            "{prefix} {} NOT NULL",
            if after.nullable { "DROP" } else { "SET" }
        ));
    }
    if let Some(d) = after
        .default
        .as_ref()
        .filter(|_| before.default != after.default)
    {
        out.push(format!(
            "{prefix} SET DEFAULT {}",
            Dialect::Postgres.default_sql(d)
        ));
    }
    out
}

fn alter_sqlite_in_place(d: &TableDiff) -> Vec<String> {
    let (before, after) = (&d.before, &d.after);
    let table = quote_ident(&after.name);
    let mut out = Vec::new();
    if d.trigger_changed
        && let Some(column) = &before.touch_on_update
    {
        out.push(format!(
            "DROP TRIGGER IF EXISTS {}",
            quote_ident(&format!("trg_{}_{column}", before.name))
        ));
    }
    if d.renamed {
        out.push(format!(
            "ALTER TABLE {} RENAME TO {table}",
            quote_ident(&before.name)
        ));
    }
    out.extend(
        d.dropped_indexes
            .iter()
            .map(|i| format!("DROP INDEX {}", quote_ident(&i.name))),
    );
    out.extend(rename_columns(d, &table));
    out.extend(
        d.added_indexes
            .iter()
            .filter_map(|i| ddl::create_index(i, after, Dialect::Sqlite)),
    );
    if d.trigger_changed
        && let Some(column) = &after.touch_on_update
    {
        out.extend(ddl::touch_trigger(after, column, Dialect::Sqlite));
    }
    out
}

/// SQLite's table rebuild: new shape, rows copied column by column (renames applied), old
/// table dropped, new one renamed into place, indexes and trigger recreated.
fn rebuild_sqlite(d: &TableDiff, backfill: Backfill) -> Vec<String> {
    let (before, after) = (&d.before, &d.after);
    let staging = format!("{}__svcc_new", after.name);
    let mut targets = Vec::new();
    let mut sources = Vec::new();
    for c in &after.columns {
        let old = d.old_name(&c.name);
        let previous = before.columns.iter().find(|b| b.name == old);
        let source = if let Some(p) = previous {
            match (&c.default, p.nullable && !c.nullable) {
                // Rows holding NULL take the new default as the column becomes required.
                (Some(d), true) => format!(
                    "COALESCE({}, {})",
                    quote_ident(old),
                    Dialect::Sqlite.default_sql(d)
                ),
                _ => quote_ident(old),
            }
        } else if backfill == Backfill::ZeroValues
            && !c.nullable
            && c.default.is_none()
            && !c.identity
        {
            Dialect::Sqlite.zero_value(c.ty).to_string()
        } else {
            continue;
        };
        targets.push(quote_ident(&c.name));
        sources.push(source);
    }
    let mut out = vec![
        ddl::create_table_named(after, &staging, Dialect::Sqlite),
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            quote_ident(&staging),
            targets.join(", "),
            sources.join(", "),
            quote_ident(&before.name)
        ),
        format!("DROP TABLE {}", quote_ident(&before.name)),
        format!(
            "ALTER TABLE {} RENAME TO {}",
            quote_ident(&staging),
            quote_ident(&after.name)
        ),
    ];
    out.extend(
        after
            .indexes
            .iter()
            .filter_map(|i| ddl::create_index(i, after, Dialect::Sqlite)),
    );
    if let Some(column) = &after.touch_on_update {
        out.extend(ddl::touch_trigger(after, column, Dialect::Sqlite));
    }
    out
}

/// Column renames: the same statement on both databases.
fn rename_columns<'d>(d: &'d TableDiff, table: &'d str) -> impl Iterator<Item = String> + 'd {
    d.renamed_columns.iter().map(move |(o, n)| {
        format!(
            "ALTER TABLE {table} RENAME COLUMN {} TO {}",
            quote_ident(o),
            quote_ident(n)
        )
    })
}
