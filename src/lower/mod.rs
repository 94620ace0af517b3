//! Stage 4: the checked IR → files. Pure: every lowering returns an in-memory tree that
//! only `cli` writes to disk.

pub mod docs;
pub mod openapi;
pub mod rust;
pub mod sql;

use std::collections::BTreeMap;

use crate::diagnostics::Diagnostic;
use crate::ir::Ir;

/// Who owns a generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Rewritten by every build.
    Generated,
    /// Written once, then the user's: never overwritten.
    UserSeed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub contents: String,
    pub owner: Owner,
}

/// Relative path (with `/`) → file, in sorted order.
pub type Output = BTreeMap<String, OutputFile>;

/// The service crate without its migrations: the Rust code, then the docs and deployment
/// files that describe it.
pub fn service(ir: &Ir, spec: &str) -> Result<sql::Built, Vec<Diagnostic>> {
    let mut built = rust::lower(ir, spec)?;
    let docs = docs::lower(ir, spec, &built.output);
    built.output.extend(docs);
    built.output.extend(openapi::lower(ir, spec));
    Ok(built)
}
