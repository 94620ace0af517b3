//! Stage 4: the checked IR → files. Pure: every lowering returns an in-memory tree, or
//! hands each file to a `Sink` as soon as it is made; only `cli` touches the disk.

pub mod docs;
pub mod openapi;
pub mod rust;
pub mod sql;

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

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

/// Where files go as they are made. `Output` keeps them all; `svcc build` writes each one
/// at once, so the files of a large spec are never all in memory together. Files of the
/// crate arrive from the two threads that lower it.
pub trait Sink: Sync {
    fn put(&self, path: String, file: OutputFile);

    /// A generated Rust module, with the fingerprint of the tokens it was printed from
    /// (see `earlier`).
    fn put_module(&self, path: String, file: OutputFile, _fingerprint: u64) {
        self.put(path, file);
    }

    /// The module at `path` as an earlier build printed it, if that build printed it from
    /// tokens with the same `fingerprint` and the file is unchanged since: printing the
    /// tokens again would give the same text, so a rebuild after a small spec edit only
    /// prints the modules the edit touched. Sinks that keep no earlier build answer `None`.
    fn earlier(&self, _path: &str, _fingerprint: u64) -> Option<String> {
        None
    }
}

impl Sink for Mutex<Output> {
    fn put(&self, path: String, file: OutputFile) {
        self.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path, file);
    }
}

/// Every path of the generated crate and who owns it, without the contents.
pub type Listing = Vec<(String, Owner)>;

/// The service crate without its migrations: the Rust code, then the docs and deployment
/// files that describe it.
pub fn service(ir: &Ir, spec: &str) -> Result<sql::Built, Vec<Diagnostic>> {
    let output = Mutex::new(Output::new());
    let warnings = service_into(ir, spec, None, &output)?;
    Ok(sql::Built {
        output: output.into_inner().unwrap_or_else(PoisonError::into_inner),
        warnings,
    })
}

/// `service`, each file handed to `sink` as soon as it is made, and the files of
/// `migrations` when given; answers the warnings, the migrations' first.
pub fn service_into(
    ir: &Ir,
    spec: &str,
    migrations: Option<sql::Plan>,
    sink: &dyn Sink,
) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    // The migrations, the OpenAPI document and most docs need only the IR: a third thread
    // makes them, using whatever time the two threads lowering the crate leave.
    let (migration_warnings, crate_files) = std::thread::scope(|scope| {
        let spare = scope.spawn(|| {
            let warnings = migrations.map(|plan| {
                let built = plan.render();
                for (path, file) in built.output {
                    sink.put(path, file);
                }
                built.warnings
            });
            for (path, file) in openapi::lower(ir, spec) {
                sink.put(path, file);
            }
            for (path, file) in docs::reference(ir, spec) {
                sink.put(path, file);
            }
            warnings.unwrap_or_default()
        });
        let crate_files = rust::lower(ir, spec, sink);
        // A bug in these lowerings panics here as it did before they had a thread.
        let warnings = spare
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (warnings, crate_files)
    });
    let crate_files = crate_files?;
    for (path, file) in docs::design(ir, spec, &crate_files.listing) {
        sink.put(path, file);
    }
    let mut warnings = migration_warnings;
    warnings.extend(crate_files.warnings);
    Ok(warnings)
}
