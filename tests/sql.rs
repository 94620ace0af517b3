//! Migrations: every file `svcc build` writes under `migrations/` for each example, from
//! scratch, next to its source.

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
        let built = sql::migrations(&c.ir, None, &Default::default()).unwrap();
        let mut text: String = built
            .output
            .iter()
            .map(|(path, file)| format!("//// {path}\n{}\n", file.contents))
            .collect();
        if !built.warnings.is_empty() {
            text.push_str(&format!(
                "//// warnings\n{}",
                svcc::diagnostics::render_plain(&c.sources, &built.warnings)
            ));
        }
        insta::assert_snapshot!(format!("sql__{}", spec_name(&spec)), text);
    }
}

#[test]
fn snapshot_round_trips() {
    for spec in example_specs() {
        let schema = sql::schema(&compile(&spec).ir);
        let parsed = sql::parse_snapshot(&sql::snapshot_json(&schema)).unwrap();
        let mut expected = schema.clone();
        // Renames only matter for the next diff and are not stored.
        for t in &mut expected.tables {
            t.renamed_from = None;
            for c in &mut t.columns {
                c.renamed_from = None;
            }
        }
        assert_eq!(parsed, expected);
    }
}
