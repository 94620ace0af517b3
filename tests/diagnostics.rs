//! Every invalid fixture → its diagnostics, rendered as the user sees them.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;

#[test]
fn invalid_fixtures() {
    let specs = spec_roots(&repo_root().join("tests/fixtures/invalid"));
    assert!(
        specs.len() >= 30,
        "expected at least 30 invalid fixtures, found {}",
        specs.len()
    );
    for spec in specs {
        let c = compile(&spec);
        assert!(c.has_errors(), "{} should fail to check", spec.display());
        for d in &c.diagnostics {
            assert!(
                d.help.is_some(),
                "{}: diagnostic {} `{}` has no help line",
                spec.display(),
                d.code,
                d.message
            );
            assert!(
                svcc::diagnostics::explain_error(d.code.0).is_some(),
                "{}: code {} is not explainable",
                spec.display(),
                d.code
            );
        }
        let text = format!(
            "----- SOURCE\n{}\n----- DIAGNOSTICS\n{}",
            sources_text(&c),
            svcc::diagnostics::render_plain(&c.sources, &c.diagnostics)
        );
        insta::assert_snapshot!(format!("invalid__{}", spec_name(&spec)), text);
    }
}

#[test]
fn examples_check_clean() {
    for spec in example_specs() {
        let c = compile(&spec);
        assert!(
            c.diagnostics.is_empty(),
            "{}:\n{}",
            spec.display(),
            svcc::diagnostics::render_plain(&c.sources, &c.diagnostics)
        );
    }
}
