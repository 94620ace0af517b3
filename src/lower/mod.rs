//! Stage 4: the checked IR → files. Pure: every lowering returns an in-memory tree that
//! only `cli` writes to disk.

pub mod rust;
pub mod sql;

use std::collections::BTreeMap;

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
