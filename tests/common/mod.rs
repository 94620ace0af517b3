//! Helpers shared by the integration tests.

#![allow(clippy::disallowed_methods, clippy::unwrap_used, dead_code)]

use std::io;
use std::path::{Path, PathBuf};

use svcc::Compilation;
use svcc::load::FileSystem;

pub struct DiskFs;

impl FileSystem for DiskFs {
    fn read(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The spec roots under `examples/`: top-level `.svc` files and directories with `main.svc`.
pub fn example_specs() -> Vec<PathBuf> {
    spec_roots(&repo_root().join("examples"))
}

/// Every spec root in a directory, sorted.
pub fn spec_roots(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            if p.is_dir() {
                Some(p.join("main.svc")).filter(|m| m.is_file())
            } else {
                p.extension().is_some_and(|x| x == "svc").then_some(p)
            }
        })
        .collect();
    out.sort();
    out
}

/// Every `.svc` file below a directory, sorted.
pub fn svc_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(svc_files(&path));
        } else if path.extension().is_some_and(|x| x == "svc") {
            out.push(path);
        }
    }
    out.sort();
    out
}

pub fn compile(spec: &Path) -> Compilation {
    svcc::compile(spec, &DiskFs).unwrap()
}

/// A readable name for a spec root: `shop` or `tracker`.
pub fn spec_name(spec: &Path) -> String {
    let stem = spec.file_stem().unwrap().to_string_lossy().into_owned();
    if stem == "main" {
        spec.parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    } else {
        stem
    }
}

/// All source files of a spec (without stdlib) under `//// name` headers.
pub fn sources_text(c: &Compilation) -> String {
    c.sources
        .files()
        .iter()
        .filter(|f| !f.name.starts_with("std/"))
        .map(|f| format!("//// {}\n{}", f.name, f.text))
        .collect::<Vec<_>>()
        .join("\n")
}

pub mod db;
pub mod http;
pub mod tools;
