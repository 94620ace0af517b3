//! Every valid fixture and example → its IR dump, next to its source.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;

fn snapshot_ir(spec: &std::path::Path) {
    let c = compile(spec);
    let rendered = svcc::diagnostics::render_plain(&c.sources, &c.diagnostics);
    // Valid fixtures show the front end; readiness findings are the rules tests' business.
    let front_end_errors = c.diagnostics.iter().any(|d| d.code.0.starts_with('E'));
    assert!(
        !front_end_errors,
        "{} has front-end errors:\n{rendered}",
        spec.display()
    );
    let text = format!(
        "----- SOURCE\n{}\n----- IR\n{}",
        sources_text(&c),
        svcc::ir::dump(&c.ir)
    );
    insta::assert_snapshot!(format!("ir__{}", spec_name(spec)), text);
}

#[test]
fn examples() {
    for spec in example_specs() {
        snapshot_ir(&spec);
    }
}

#[test]
fn valid_fixtures() {
    for spec in spec_roots(&repo_root().join("tests/fixtures/valid")) {
        snapshot_ir(&spec);
    }
}

#[test]
fn graphs() {
    for spec in example_specs() {
        let c = compile(&spec);
        let text = format!(
            "----- DOT\n{}\n----- MERMAID\n{}",
            svcc::ir::to_dot(&c.ir),
            svcc::ir::to_mermaid(&c.ir)
        );
        insta::assert_snapshot!(format!("graph__{}", spec_name(&spec)), text);
    }
}
