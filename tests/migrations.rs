//! Migrations against real PostgreSQL and SQLite: every example applies up, down and up
//! again and the live schema matches the IR's; evolution scenarios (spec v1 → v2) keep the
//! rows; constraints behave as declared.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::db::Db;
use common::*;
use svcc::lower::sql::schema::{Action, ColumnType};
use svcc::lower::sql::{self, Dialect, Schema};

/// Builds a spec into `out` the way `svcc build` does, returning the migration files written.
fn build(spec: &Path, out: &Path) -> Vec<String> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_svcc"))
        .arg("build")
        .arg(spec)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "svcc build {} failed:\n{}",
        spec.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .map(str::to_string)
        .collect()
}

fn scratch(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("svcc-mig-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn databases(label: &str) -> Vec<Db> {
    let mut dbs = vec![Db::sqlite(label)];
    dbs.extend(Db::postgres(label));
    dbs
}

fn migration(out: &Path, dialect: &str, version: u32, direction: &str) -> PathBuf {
    let dir = out.join("migrations").join(dialect);
    let prefix = format!("{version:04}_");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(&prefix) && name.ends_with(&format!(".{direction}.sql"))
        })
        .unwrap_or_else(|| panic!("no {direction} migration {version} in {}", dir.display()))
}

/// The live schema, normalised to lines that `expected_schema` produces too.
fn live_schema(db: &Db) -> Vec<String> {
    let queries: &[&str] = match db {
        Db::Postgres { .. } => &[
            "SELECT 'table ' || table_name FROM information_schema.tables WHERE table_schema = 'public'",
            "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns WHERE table_schema = 'public'",
            "SELECT 'index ' || tablename || '.' || indexname FROM pg_indexes WHERE schemaname = 'public'",
            "SELECT 'fk ' || tc.table_name || '.' || kcu.column_name || ' -> ' || ccu.table_name || ' ' || rc.delete_rule FROM information_schema.table_constraints tc \
             JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name \
             JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name \
             JOIN information_schema.referential_constraints rc ON rc.constraint_name = tc.constraint_name WHERE tc.constraint_type = 'FOREIGN KEY'",
        ],
        Db::Sqlite { .. } => &[
            "SELECT 'table ' || name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            "SELECT 'column ' || m.name || '.' || p.name || ' ' || p.type || ' ' || CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'NO' ELSE 'YES' END FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            "SELECT 'index ' || m.name || '.' || i.name FROM sqlite_master m JOIN pragma_index_list(m.name) i WHERE m.type = 'table' AND i.origin = 'c'",
            "SELECT 'fk ' || m.name || '.' || f.\"from\" || ' -> ' || f.\"table\" || ' ' || f.on_delete FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
        ],
    };
    let mut lines: Vec<String> = queries.iter().flat_map(|q| db.query(q)).collect();
    lines.sort();
    lines
}

/// What the live schema must look like for `schema`.
fn expected_schema(schema: &Schema, dialect: Dialect) -> Vec<String> {
    let mut lines = Vec::new();
    for t in &schema.tables {
        lines.push(format!("table {}", t.name));
        for c in &t.columns {
            let nullable = if c.nullable && !t.primary_key.contains(&c.name) {
                "YES"
            } else {
                "NO"
            };
            let ty = match dialect {
                Dialect::Postgres => pg_type(c.ty).to_string(),
                Dialect::Sqlite => dialect.type_name(c.ty),
            };
            lines.push(format!("column {}.{} {ty} {nullable}", t.name, c.name));
        }
        if dialect == Dialect::Postgres && !t.primary_key.is_empty() {
            lines.push(format!("index {}.pk_{}", t.name, t.name));
        }
        for i in t
            .indexes
            .iter()
            .filter(|i| !(i.gin && dialect == Dialect::Sqlite))
        {
            lines.push(format!("index {}.{}", t.name, i.name));
        }
        for fk in &t.foreign_keys {
            let rule = match fk.on_delete {
                Action::Cascade => "CASCADE",
                Action::Restrict => "RESTRICT",
                Action::SetNull => "SET NULL",
                Action::NoAction => "NO ACTION",
            };
            lines.push(format!(
                "fk {}.{} -> {} {rule}",
                t.name, fk.column, fk.ref_table
            ));
        }
    }
    lines.sort();
    lines
}

fn pg_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Uuid => "uuid",
        ColumnType::Text => "text",
        ColumnType::Integer => "integer",
        ColumnType::BigInt => "bigint",
        ColumnType::Double => "double precision",
        ColumnType::Decimal { .. } => "numeric",
        ColumnType::Boolean => "boolean",
        ColumnType::Timestamp => "timestamp with time zone",
        ColumnType::Date => "date",
        ColumnType::Json => "jsonb",
    }
}

fn dialect_of(db: &Db) -> Dialect {
    match db {
        Db::Postgres { .. } => Dialect::Postgres,
        Db::Sqlite { .. } => Dialect::Sqlite,
    }
}

fn assert_schema(db: &Db, schema: &Schema, context: &str) {
    let live = live_schema(db);
    let expected = expected_schema(schema, dialect_of(db));
    let missing: Vec<&String> = expected.iter().filter(|l| !live.contains(l)).collect();
    let extra: Vec<&String> = live.iter().filter(|l| !expected.contains(l)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{context} on {}: live schema differs\nmissing: {missing:#?}\nunexpected: {extra:#?}",
        db.dialect()
    );
}

#[test]
fn examples_apply_up_down_up_and_match_the_ir() {
    for spec in example_specs() {
        let name = spec_name(&spec);
        let out = scratch(&name);
        build(&spec, &out);
        let schema = sql::schema(&compile(&spec).ir);
        for db in databases(&name) {
            let up = migration(&out, db.dialect(), 1, "up");
            let down = migration(&out, db.dialect(), 1, "down");
            db.apply(&up);
            assert_schema(&db, &schema, &format!("{name} after up"));
            db.apply(&down);
            assert!(
                live_schema(&db).is_empty(),
                "{name}: down left objects behind on {}: {:?}",
                db.dialect(),
                live_schema(&db)
            );
            db.apply(&up);
            assert_schema(&db, &schema, &format!("{name} after up, down, up"));
        }
    }
}

#[test]
fn rebuilding_an_unchanged_spec_writes_nothing() {
    let spec = repo_root().join("examples/shop.svc");
    let out = scratch("unchanged");
    assert!(!build(&spec, &out).is_empty());
    let before = snapshot_tree(&out);
    assert!(build(&spec, &out).is_empty(), "second build wrote files");
    assert_eq!(
        before,
        snapshot_tree(&out),
        "second build changed the output"
    );
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(["build", "--check", "-o"])
        .arg(&out)
        .arg(&spec)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

fn snapshot_tree(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// The rows of `columns` of `table`, ordered by its first column, as text.
fn rows(db: &Db, table: &str, columns: &[String]) -> Vec<String> {
    if columns.is_empty() {
        return Vec::new();
    }
    let list: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    db.query(&format!(
        "SELECT {} FROM \"{table}\" ORDER BY 1",
        list.join(", ")
    ))
}

/// Columns present in both schemas, as (old table, old column, new table, new column).
fn kept_columns(v1: &Schema, v2: &Schema) -> Vec<(String, Vec<String>, String, Vec<String>)> {
    let renames = sql::diff::Renames::declared(v1, v2);
    let mut out = Vec::new();
    for new_table in &v2.tables {
        let old_name = renames
            .tables
            .iter()
            .find(|(_, n)| *n == new_table.name)
            .map_or(new_table.name.clone(), |(o, _)| o.clone());
        let Some(old_table) = v1.tables.iter().find(|t| t.name == old_name) else {
            continue;
        };
        let mut old_cols = Vec::new();
        let mut new_cols = Vec::new();
        for c in &new_table.columns {
            let old = renames
                .columns
                .iter()
                .find(|(t, _, n)| *t == new_table.name && *n == c.name)
                .map_or(c.name.clone(), |(_, o, _)| o.clone());
            if old_table
                .columns
                .iter()
                .any(|oc| oc.name == old && oc.ty == c.ty)
            {
                old_cols.push(old);
                new_cols.push(c.name.clone());
            }
        }
        out.push((old_name, old_cols, new_table.name.clone(), new_cols));
    }
    out
}

#[test]
fn evolution_scenarios_preserve_rows_and_revert_cleanly() {
    let root = repo_root().join("tests/fixtures/evolution");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 7, "expected the seven evolution scenarios");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let out = scratch(&format!("evo-{name}"));
        build(&case.join("v1.svc"), &out);
        let written = build(&case.join("v2.svc"), &out);
        assert!(
            written.iter().any(|w| w.contains("0002_")),
            "{name}: v2 wrote no migration: {written:?}"
        );
        let v1 = sql::schema(&compile(&case.join("v1.svc")).ir);
        let v2 = sql::schema(&compile(&case.join("v2.svc")).ir);
        let kept = kept_columns(&v1, &v2);
        let mut snapshot = String::new();
        for dialect in ["postgres", "sqlite"] {
            for direction in ["up", "down"] {
                let file = migration(&out, dialect, 2, direction);
                snapshot.push_str(&format!(
                    "//// {dialect}/{}\n{}\n",
                    file.file_name().unwrap().to_string_lossy(),
                    std::fs::read_to_string(&file).unwrap()
                ));
            }
        }
        insta::assert_snapshot!(format!("evolution__{name}"), snapshot);
        for db in databases(&format!("evo_{name}")) {
            let dialect = db.dialect();
            db.apply(&migration(&out, dialect, 1, "up"));
            db.apply(&case.join("seed.sql"));
            let before: Vec<Vec<String>> = kept
                .iter()
                .map(|(t, cols, _, _)| rows(&db, t, cols))
                .collect();
            let up = migration(&out, dialect, 2, "up");
            db.apply(&up);
            assert_schema(&db, &v2, &format!("{name} after the v2 migration"));
            let after: Vec<Vec<String>> = kept
                .iter()
                .map(|(_, _, t, cols)| rows(&db, t, cols))
                .collect();
            assert_eq!(
                before, after,
                "{name} on {dialect}: the v2 migration changed existing rows"
            );
            let down = migration(&out, dialect, 2, "down");
            db.apply(&down);
            assert_schema(
                &db,
                &v1,
                &format!("{name} after reverting the v2 migration"),
            );
            let reverted: Vec<Vec<String>> = kept
                .iter()
                .map(|(t, cols, _, _)| rows(&db, t, cols))
                .collect();
            assert_eq!(
                before, reverted,
                "{name} on {dialect}: reverting changed existing rows"
            );
        }
    }
}

/// Applies an example's initial migration to a fresh database of each dialect.
fn migrated(example: &str) -> Vec<Db> {
    let spec = repo_root().join("examples").join(example);
    let name = spec_name(&spec);
    let out = scratch(&format!("constraints-{name}"));
    build(&spec, &out);
    let dbs = databases(&format!("constraints_{name}"));
    for db in &dbs {
        db.apply(&migration(&out, db.dialect(), 1, "up"));
    }
    dbs
}

fn ok(db: &Db, sql: &str) {
    if let Err(e) = db.exec(sql) {
        panic!("on {}: expected success for {sql}\n{e}", db.dialect());
    }
}

fn rejected(db: &Db, sql: &str, what: &str) {
    assert!(
        db.exec(sql).is_err(),
        "on {}: {what} was not rejected: {sql}",
        db.dialect()
    );
}

fn one(db: &Db, sql: &str) -> String {
    db.query(sql).join("\n")
}

#[test]
fn constraints_behave_as_declared() {
    const CAT: &str = "'c0000000-0000-0000-0000-000000000001'";
    const USER: &str = "'a0000000-0000-0000-0000-000000000001'";
    for db in migrated("shop.svc") {
        ok(
            &db,
            &format!("INSERT INTO categories (id, name, slug) VALUES ({CAT}, 'Books', 'books')"),
        );
        ok(
            &db,
            &format!(
                "INSERT INTO products (id, name, price, stock, category_id) VALUES ('d0000000-0000-0000-0000-000000000001', 'Dune', '9.99', 3, {CAT})"
            ),
        );
        rejected(
            &db,
            &format!(
                "INSERT INTO products (id, name, price, stock, category_id) VALUES ('d0000000-0000-0000-0000-000000000002', 'Cheap', '-1', 3, {CAT})"
            ),
            "a negative price (CHECK)",
        );
        rejected(
            &db,
            &format!(
                "INSERT INTO products (id, name, price, stock, category_id) VALUES ('d0000000-0000-0000-0000-000000000003', '', '1', 3, {CAT})"
            ),
            "an empty name (length CHECK)",
        );
        rejected(
            &db,
            "INSERT INTO categories (id, name, slug) VALUES ('c0000000-0000-0000-0000-000000000002', 'Other', 'books')",
            "a duplicate slug (UNIQUE)",
        );
        rejected(
            &db,
            &format!(
                "INSERT INTO products (id, name, price, stock, category_id) VALUES ('d0000000-0000-0000-0000-000000000004', 'Dune', '5', 1, {CAT})"
            ),
            "a duplicate live product name (partial UNIQUE)",
        );
        ok(
            &db,
            "UPDATE products SET deleted_at = '2026-01-01T00:00:00Z' WHERE name = 'Dune'",
        );
        ok(
            &db,
            &format!(
                "INSERT INTO products (id, name, price, stock, category_id) VALUES ('d0000000-0000-0000-0000-000000000005', 'Dune', '5', 1, {CAT})"
            ),
        );
        rejected(
            &db,
            "INSERT INTO products (id, name, price, stock, category_id) VALUES ('d0000000-0000-0000-0000-000000000006', 'Lost', '1', 1, 'c0000000-0000-0000-0000-00000000dead')",
            "a missing category (FOREIGN KEY)",
        );
        rejected(
            &db,
            &format!("DELETE FROM categories WHERE id = {CAT}"),
            "deleting a referenced category (ON DELETE RESTRICT)",
        );
        ok(
            &db,
            &format!(
                "INSERT INTO users (id, email, name, password) VALUES ({USER}, 'ann@example.com', 'Ann', 'x')"
            ),
        );
        rejected(
            &db,
            &format!(
                "INSERT INTO orders (id, customer_id, status) VALUES ('e0000000-0000-0000-0000-000000000001', {USER}, 'lost')"
            ),
            "an unknown order status (enum CHECK)",
        );
        ok(
            &db,
            &format!(
                "INSERT INTO orders (id, customer_id) VALUES ('e0000000-0000-0000-0000-000000000002', {USER})"
            ),
        );
        assert_eq!(
            one(&db, "SELECT status FROM orders"),
            "pending",
            "the status default"
        );
        ok(&db, &format!("DELETE FROM users WHERE id = {USER}"));
        assert_eq!(
            one(&db, "SELECT COUNT(*) FROM orders"),
            "0",
            "on {}: deleting a user cascades to their orders",
            db.dialect()
        );
        let stamp = one(&db, "SELECT updated_at FROM categories");
        std::thread::sleep(std::time::Duration::from_millis(20));
        ok(&db, "UPDATE categories SET name = 'Novels'");
        assert_ne!(
            stamp,
            one(&db, "SELECT updated_at FROM categories"),
            "on {}: updated_at is maintained by the database",
            db.dialect()
        );
    }
}

#[test]
fn set_null_and_identity_columns_behave() {
    for db in migrated("tracker") {
        let m1 = "'a0000000-0000-0000-0000-000000000001'";
        let m2 = "'a0000000-0000-0000-0000-000000000002'";
        ok(
            &db,
            &format!(
                "INSERT INTO members (id, email, name, password) VALUES ({m1}, 'a@x.io', 'A', 'x'), ({m2}, 'b@x.io', 'B', 'x')"
            ),
        );
        ok(
            &db,
            &format!(
                "INSERT INTO projects (id, key, name, owner_id) VALUES ('b0000000-0000-0000-0000-000000000001', 'CORE', 'Core', {m1})"
            ),
        );
        ok(
            &db,
            &format!(
                "INSERT INTO issues (project_id, title, reporter_id, assignee_id) VALUES ('b0000000-0000-0000-0000-000000000001', 'Crash', {m1}, {m2})"
            ),
        );
        assert_eq!(
            one(&db, "SELECT id FROM issues"),
            "1",
            "on {}: identity ids start at 1",
            db.dialect()
        );
        ok(&db, &format!("DELETE FROM members WHERE id = {m2}"));
        assert_eq!(
            one(&db, "SELECT COUNT(*) FROM issues WHERE assignee_id IS NULL"),
            "1",
            "on {}: ON DELETE SET NULL",
            db.dialect()
        );
        rejected(
            &db,
            &format!("DELETE FROM members WHERE id = {m1}"),
            "deleting a project owner (ON DELETE RESTRICT)",
        );
    }
}

const CYCLE: &str = r#"service cycle {
  version      = "1.0.0"
  databases    = [postgres]
  database_url = env("DATABASE_URL")
}

use std.mixins

entity Team {
  include uuid_id
  captain: ref Player? @on_delete(set_null)
  include timestamps
}

entity Player {
  include uuid_id
  team: ref Team @on_delete(cascade)
  include timestamps
}
"#;

#[test]
fn reference_cycles_apply_and_a_new_database_target_gets_its_history() {
    let dir = scratch("cycle");
    let spec = dir.join("cycle.svc");
    std::fs::write(&spec, CYCLE).unwrap();
    let out = dir.join("out");
    build(&spec, &out);
    assert!(!out.join("migrations/sqlite").exists());
    std::fs::write(
        &spec,
        CYCLE.replace(
            "databases    = [postgres]",
            "databases    = [postgres, sqlite]",
        ),
    )
    .unwrap();
    let written = build(&spec, &out);
    assert!(
        written
            .iter()
            .any(|w| w.ends_with("migrations/sqlite/0001_initial.up.sql")),
        "adding sqlite wrote {written:?}"
    );
    assert!(
        !written.iter().any(|w| w.contains("postgres/0002")),
        "the PostgreSQL history is unchanged: {written:?}"
    );
    let schema = sql::schema(&compile(&spec).ir);
    for db in databases("cycle") {
        let up = migration(&out, db.dialect(), 1, "up");
        db.apply(&up);
        assert_schema(&db, &schema, "reference cycle");
        db.apply(&migration(&out, db.dialect(), 1, "down"));
        assert!(
            live_schema(&db).is_empty(),
            "down left objects behind on {}",
            db.dialect()
        );
    }
}
