//! The generated OpenAPI document: valid OpenAPI 3.1 by an external validator, and a
//! description of every endpoint the spec declares.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::process::Command;

use common::tools::python_tool;
use common::*;
use serde_json::Value;
use svcc::ir::OpKind;

fn document(spec: &std::path::Path) -> (svcc::Compilation, Value) {
    let c = compile(spec);
    let output = svcc::lower::service(&c.ir, "spec.svc").unwrap().output;
    let text = &output.get("openapi.json").unwrap().contents;
    (c, serde_json::from_str(text).unwrap())
}

#[test]
fn every_operation_is_described() {
    for spec in example_specs() {
        let (c, doc) = document(&spec);
        let base = c.ir.service.base_path.trim_end_matches('/');
        for r in &c.ir.resources {
            for op in &r.operations {
                let path = format!("{base}{}", op.path);
                for method in op.methods() {
                    let described = &doc["paths"][&path][method.as_str().to_ascii_lowercase()];
                    assert!(
                        described.is_object(),
                        "{}: {} {path} is missing",
                        spec.display(),
                        method.as_str()
                    );
                    let status = if op.kind == OpKind::List {
                        200
                    } else {
                        op.status
                    };
                    assert!(
                        described["responses"][status.to_string()].is_object(),
                        "{}: {} {path} does not describe its {status}",
                        spec.display(),
                        method.as_str()
                    );
                }
            }
        }
        for path in ["/health", "/health/ready", "/openapi.json", "/metrics"] {
            assert!(doc["paths"][path]["get"].is_object(), "{path}");
        }
    }
}

/// Every `$ref` points at a component that exists.
#[test]
fn every_reference_resolves() {
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref") {
                    out.push(r);
                }
                o.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    for spec in example_specs() {
        let (_, doc) = document(&spec);
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let pointer = r.strip_prefix('#').unwrap();
            assert!(
                doc.pointer(pointer).is_some(),
                "{}: {r} does not resolve",
                spec.display()
            );
        }
    }
}

#[test]
fn the_document_passes_openapi_spec_validator() {
    let Some(validator) = python_tool("openapi-spec-validator") else {
        return;
    };
    for spec in example_specs() {
        let (_, doc) = document(&spec);
        let path = std::env::temp_dir().join(format!("svcc-openapi-{}.json", spec_name(&spec)));
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        let out = Command::new(&validator).arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}{}",
            spec.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
