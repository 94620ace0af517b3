//! The generated docs and deployment files: they document exactly what the service has,
//! and the external linters accept them.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::tools::python_tool;
use common::*;
use svcc::lower::Output;
use svcc::lower::sql::schema::schema;

fn generated(spec: &std::path::Path) -> (svcc::Compilation, Output) {
    let c = compile(spec);
    let output = svcc::lower::service(&c.ir, "spec.svc").unwrap().output;
    (c, output)
}

fn file<'a>(output: &'a Output, path: &str) -> &'a str {
    &output
        .get(path)
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

/// Every variable the service reads is in `.env.example` and the runbook, from one list.
#[test]
fn every_variable_is_documented() {
    for spec in example_specs() {
        let (c, output) = generated(&spec);
        let env = file(&output, ".env.example");
        let runbook = file(&output, "docs/runbook.md");
        let vars = svcc::lower::rust::env_vars(&c.ir);
        assert!(vars.len() > 10, "{}", spec.display());
        for v in vars {
            assert!(
                env.lines().any(|l| l
                    .trim_start_matches("# ")
                    .starts_with(&format!("{}=", v.name))),
                "{}: {} is not in .env.example",
                spec.display(),
                v.name
            );
            assert!(
                runbook.contains(&format!("| `{}` |", v.name)),
                "{}: {} is not in the runbook",
                spec.display(),
                v.name
            );
        }
    }
}

/// The ER diagram has one block per table of the schema and one line per foreign key.
#[test]
fn the_er_diagram_lists_exactly_the_tables_and_relations() {
    for spec in example_specs() {
        let (c, output) = generated(&spec);
        let doc = file(&output, "docs/data-model.md");
        let diagram = doc
            .split("```mermaid\n")
            .nth(1)
            .and_then(|rest| rest.split("\n```").next())
            .unwrap();
        let tables: BTreeSet<&str> = diagram
            .lines()
            .filter_map(|l| l.strip_prefix("  ")?.strip_suffix(" {"))
            .collect();
        let relations: BTreeSet<(String, String, String)> = diagram
            .lines()
            .filter(|l| l.contains("--o{"))
            .map(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                (
                    words[0].into(),
                    words[2].into(),
                    words[4].trim_matches('"').into(),
                )
            })
            .collect();
        let schema = schema(&c.ir);
        let expected_tables: BTreeSet<&str> =
            schema.tables.iter().map(|t| t.name.as_str()).collect();
        let expected_relations: BTreeSet<(String, String, String)> = schema
            .tables
            .iter()
            .flat_map(|t| {
                t.foreign_keys
                    .iter()
                    .map(|fk| (fk.ref_table.clone(), t.name.clone(), fk.column.clone()))
            })
            .collect();
        assert_eq!(tables, expected_tables, "{}", spec.display());
        assert_eq!(relations, expected_relations, "{}", spec.display());
        for table in &schema.tables {
            assert!(
                doc.contains(&format!("## `{}`", table.name)),
                "{}",
                table.name
            );
            for index in &table.indexes {
                assert!(doc.contains(&format!("`{}`", index.name)), "{}", index.name);
            }
        }
    }
}

/// The Dockerfile passes hadolint and the Kubernetes manifest passes yamllint.
#[test]
fn deployment_files_pass_their_linters() {
    let (Some(hadolint), Some(yamllint)) = (python_tool("hadolint"), python_tool("yamllint"))
    else {
        return;
    };
    for spec in example_specs() {
        let (_, output) = generated(&spec);
        let dir = std::env::temp_dir().join(format!("svcc-deploy-{}", spec_name(&spec)));
        std::fs::create_dir_all(&dir).unwrap();
        let dockerfile = dir.join("Dockerfile");
        let manifest = dir.join("kubernetes.yaml");
        std::fs::write(&dockerfile, file(&output, "Dockerfile")).unwrap();
        std::fs::write(&manifest, file(&output, "deploy/kubernetes.yaml")).unwrap();
        let lint = Command::new(&hadolint)
            .arg("--no-color")
            .arg(&dockerfile)
            .output()
            .unwrap();
        assert!(
            lint.status.success(),
            "{}: hadolint:\n{}",
            spec.display(),
            String::from_utf8_lossy(&lint.stdout)
        );
        // The generated-file header is longer than yamllint's default 80 columns.
        let lint = Command::new(&yamllint)
            .args([
                "-f",
                "parsable",
                "-d",
                "{extends: default, rules: {line-length: {max: 120}}}",
            ])
            .arg(&manifest)
            .output()
            .unwrap();
        assert!(
            lint.status.success(),
            "{}: yamllint:\n{}",
            spec.display(),
            String::from_utf8_lossy(&lint.stdout)
        );
    }
}
