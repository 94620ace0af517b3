//! svcc: a declarative spec-to-service compiler.
//!
//! The pipeline, one module per stage, data flowing one way:
//! `load` (files + imports, parsed by `syntax`) → `ir` (resolved, typed graph) → `check`
//! (readiness rules) → `lower` (SQL, Rust, docs, OpenAPI). Only `cli` touches the disk.

pub mod check;
pub mod diagnostics;
pub mod ir;
pub mod load;
pub mod lower;
pub mod source;
pub mod syntax;

use std::io;
use std::path::Path;

use diagnostics::Diagnostic;
use load::FileSystem;
use source::SourceMap;

/// A spec taken through the front end.
#[derive(Debug)]
pub struct Compilation {
    pub sources: SourceMap,
    pub ir: ir::Ir,
    /// Every problem found, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads, parses, resolves and checks the spec rooted at `root`.
pub fn compile(root: &Path, fs: &dyn FileSystem) -> io::Result<Compilation> {
    Ok(front_end(load::load(root, fs)?))
}

/// The same for a spec held in memory.
pub fn compile_text(name: &str, text: &str, fs: &dyn FileSystem) -> Compilation {
    front_end(load::load_text(name, text, fs))
}

/// Parses and resolves; each stage reports only when the one before it succeeded, since
/// a statement dropped for a syntax error makes every reference to it look unknown, and
/// readiness findings on a half-resolved model are noise.
fn front_end(ws: load::Workspace) -> Compilation {
    let (ir, resolved) = ir::lower(&ws.files);
    let mut diagnostics = ws.diagnostics;
    if diagnostics
        .iter()
        .all(|d| d.code != diagnostics::Code::SYNTAX)
    {
        diagnostics.extend(resolved);
    }
    if !diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.extend(check::check(&ir));
    }
    diagnostics::sort(&mut diagnostics);
    Compilation {
        sources: ws.sources,
        ir,
        diagnostics,
    }
}
