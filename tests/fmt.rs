//! `svcc fmt` is idempotent, keeps every comment and never changes what a spec means.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

mod common;

use common::*;
use svcc::source::SourceMap;
use svcc::syntax;

fn format_text(name: &str, text: &str) -> Option<String> {
    let mut map = SourceMap::new();
    let id = map.add(name, text);
    let parsed = syntax::parse(map.get(id));
    parsed
        .diagnostics
        .is_empty()
        .then(|| syntax::format::format(&parsed.file, text))
}

fn all_files() -> Vec<std::path::PathBuf> {
    let root = repo_root();
    let mut files = svc_files(&root.join("examples"));
    files.extend(svc_files(&root.join("tests/fixtures/valid")));
    files.extend(svc_files(&root.join("stdlib")));
    files
}

#[test]
fn examples_and_stdlib_are_formatted() {
    for file in all_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let formatted = format_text("x.svc", &text).unwrap();
        assert_eq!(
            text,
            formatted,
            "{} is not in canonical form (run `svcc fmt`)",
            file.display()
        );
    }
}

#[test]
fn idempotent_and_keeps_comments() {
    let mut files = all_files();
    files.extend(svc_files(&repo_root().join("tests/fixtures/fmt")));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let Some(once) = format_text("x.svc", &text) else {
            continue;
        };
        let twice = format_text("x.svc", &once).unwrap_or_else(|| {
            panic!("{}: formatted text does not parse:\n{once}", file.display())
        });
        assert_eq!(
            once,
            twice,
            "{}: formatting is not idempotent",
            file.display()
        );
        let count = |t: &str| {
            let mut map = SourceMap::new();
            let id = map.add("x.svc", t);
            syntax::parse(map.get(id))
                .file
                .comments
                .iter()
                .map(|c| c.text.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            count(&text),
            count(&once),
            "{}: comments changed",
            file.display()
        );
    }
}

#[test]
fn formatting_never_changes_the_ir() {
    let mut specs = example_specs();
    specs.extend(spec_roots(&repo_root().join("tests/fixtures/valid")));
    specs.extend(spec_roots(&repo_root().join("tests/fixtures/fmt")));
    for spec in specs {
        let c = compile(&spec);
        let before = svcc::ir::dump(&c.ir);
        let mut fs = svcc::load::MemoryFs::default();
        for f in c
            .sources
            .files()
            .iter()
            .filter(|f| !f.name.starts_with("std/"))
        {
            fs.0.insert(
                f.name.clone().into(),
                format_text(&f.name, &f.text).unwrap(),
            );
        }
        let root = c.sources.files()[0].name.clone();
        let after = svcc::compile(std::path::Path::new(&root), &fs).unwrap();
        assert_eq!(
            before,
            svcc::ir::dump(&after.ir),
            "{}: formatting changed the IR",
            spec.display()
        );
    }
}
