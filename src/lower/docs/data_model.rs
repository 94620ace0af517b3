//! `docs/data-model.md`: the tables as the migrations create them, an ER diagram of them,
//! and how the schema evolves. Built from the same `Schema` the migrations come from, so
//! the document cannot describe a table the database does not have.

use super::markdown::{Doc, code};
use crate::lower::sql::Dialect;
use crate::lower::sql::ddl;
use crate::lower::sql::schema::{Action, Schema, Table};

pub fn data_model_md(schema: &Schema, dialects: &[Dialect], header: &str) -> String {
    let mut doc = Doc::new(header, "Data model");
    doc.para(
        "Every table the migrations create, in the order they are created (a table comes \
         after the tables it references).",
    );
    doc.code("mermaid", &er_diagram(schema));
    for table in &schema.tables {
        describe(&mut doc, table, dialects);
    }
    doc.heading(2, "Migrations");
    doc.bullets([
        format!(
            "{}: one numbered, reversible migration pair per schema change \
             (`NNNN_name.up.sql` and `NNNN_name.down.sql`) per database{}.",
            code("migrations/<database>/"),
            if dialects.len() > 1 {
                " (PostgreSQL and SQLite from the same spec)"
            } else {
                ""
            }
        ),
        format!(
            "{}: the schema the latest migration leaves, which `svcc build` compares the \
             spec against to write the next migration. Commit it with the migrations.",
            code("migrations/schema.json")
        ),
        "Migrations are applied at start when `MIGRATE_ON_START` is on (the default for \
         SQLite, off for PostgreSQL, where a deploy step applies them once with \
         `sqlx migrate run --source migrations/postgres`)."
            .to_owned(),
        "Destructive steps (a dropped table or column) are only generated when the spec \
         acknowledges them in `migrations { acknowledge = [...] }`."
            .to_owned(),
        "To roll back, apply the `down.sql` files newest first \
         (`sqlx migrate revert --source migrations/postgres`), then deploy the previous build."
            .to_owned(),
    ]);
    doc.finish()
}

/// A Mermaid `erDiagram`: one block per table, one line per foreign key.
pub fn er_diagram(schema: &Schema) -> String {
    let mut lines = vec!["erDiagram".to_owned()];
    for table in &schema.tables {
        lines.push(format!("  {} {{", table.name));
        for column in &table.columns {
            let mut keys = Vec::new();
            if table.primary_key.contains(&column.name) {
                keys.push("PK");
            }
            if table.foreign_keys.iter().any(|fk| fk.column == column.name) {
                keys.push("FK");
            }
            if unique_alone(table, &column.name) {
                keys.push("UK");
            }
            let ty = Dialect::Postgres.type_name(column.ty);
            // Mermaid attribute types are one word: `NUMERIC(12, 2)` shows as `NUMERIC`.
            let ty = ty
                .split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap_or("");
            lines.push(
                format!("    {ty} {} {}", column.name, keys.join(", "))
                    .trim_end()
                    .to_owned(),
            );
        }
        lines.push("  }".to_owned());
    }
    for table in &schema.tables {
        for fk in &table.foreign_keys {
            let nullable = table
                .columns
                .iter()
                .any(|c| c.name == fk.column && c.nullable);
            let cardinality = if nullable { "|o--o{" } else { "||--o{" };
            lines.push(format!(
                "  {} {cardinality} {} : \"{}\"",
                fk.ref_table, table.name, fk.column
            ));
        }
    }
    lines.join("\n")
}

fn unique_alone(table: &Table, column: &str) -> bool {
    table.indexes.iter().any(|i| {
        i.unique && i.predicate.is_none() && i.columns.len() == 1 && i.columns[0] == column
    })
}

fn describe(doc: &mut Doc, table: &Table, dialects: &[Dialect]) {
    doc.heading(2, &code(&table.name));
    let mut headers = vec!["Column"];
    headers.extend(dialects.iter().map(|d| match d {
        Dialect::Postgres => "PostgreSQL",
        Dialect::Sqlite => "SQLite",
    }));
    headers.extend(["Null", "Default"]);
    let rows: Vec<Vec<String>> = table
        .columns
        .iter()
        .map(|c| {
            let mut row = vec![code(&c.name)];
            row.extend(dialects.iter().map(|d| d.type_name(c.ty)));
            row.push(if c.nullable { "yes" } else { "no" }.to_owned());
            row.push(
                c.default
                    .as_ref()
                    .map(|d| code(&dialects[0].default_sql(d)))
                    .or_else(|| c.identity.then(|| "generated".to_owned()))
                    .unwrap_or_default(),
            );
            row
        })
        .collect();
    doc.table(&headers, &rows);
    let mut facts = vec![format!("Primary key: {}", columns(&table.primary_key))];
    for fk in &table.foreign_keys {
        facts.push(format!(
            "Foreign key {}: {} → {}.{} ON DELETE {}",
            code(&fk.name),
            code(&fk.column),
            code(&fk.ref_table),
            code(&fk.ref_column),
            action(fk.on_delete)
        ));
    }
    for check in &table.checks {
        facts.push(format!(
            "Check {}: {}",
            code(&check.name),
            code(&ddl::predicate_sql(&check.expr, table, dialects[0]))
        ));
    }
    for index in &table.indexes {
        let kind = if index.unique {
            "Unique index"
        } else {
            "Index"
        };
        let partial = index
            .predicate
            .as_ref()
            .map(|p| {
                format!(
                    " where {}",
                    code(&ddl::predicate_sql(p, table, dialects[0]))
                )
            })
            .unwrap_or_default();
        let gin = if index.gin {
            " (GIN, PostgreSQL only)"
        } else {
            ""
        };
        facts.push(format!(
            "{kind} {} on {}{partial}{gin}",
            code(&index.name),
            columns(&index.columns)
        ));
    }
    if let Some(column) = &table.touch_on_update {
        facts.push(format!(
            "{} is set to the current time on every update",
            code(column)
        ));
    }
    doc.bullets(facts);
}

fn columns(names: &[String]) -> String {
    format!(
        "({})",
        names.iter().map(|n| code(n)).collect::<Vec<_>>().join(", ")
    )
}

fn action(a: Action) -> &'static str {
    match a {
        Action::Cascade => "CASCADE",
        Action::Restrict => "RESTRICT",
        Action::SetNull => "SET NULL",
        Action::NoAction => "NO ACTION",
    }
}
