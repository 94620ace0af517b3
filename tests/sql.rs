//! Migrations: the SQL of every example for each database target, next to its source.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use svcc::lower::sql;

#[test]
fn example_migrations() {
    for spec in example_specs() {
        let c = compile(&spec);
        assert!(
            !c.has_errors(),
            "{}",
            svcc::diagnostics::render_plain(&c.sources, &c.diagnostics)
        );
        let schema = sql::schema(&c.ir);
        let mut text = String::new();
        for dialect in sql::dialects(&c.ir) {
            let m = sql::initial(&schema, dialect);
            let dir = dialect.dir();
            text.push_str(&format!("//// migrations/{dir}/0001_initial.up.sql\n{}\n//// migrations/{dir}/0001_initial.down.sql\n{}\n", m.up, m.down));
            for s in &m.skipped {
                text.push_str(&format!("//// skipped on {dir}: {s}\n"));
            }
        }
        insta::assert_snapshot!(format!("sql__{}", spec_name(&spec)), text);
    }
}
