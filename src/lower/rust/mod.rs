//! The generated Axum service crate: `Cargo.toml`, the infrastructure modules, and
//! `.env.example`. Rust is built with `quote!` and printed by `file.rs` alone.

mod config;
pub mod file;
mod manifest;
mod runtime;

use std::fmt::Write as _;

use proc_macro2::TokenStream;

pub use config::{EnvVar, env_vars};

use super::{Output, OutputFile, Owner};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Ir, names};

/// Every file of the crate except the migrations, keyed by path.
pub fn lower(ir: &Ir, spec: &str) -> Result<Output, Vec<Diagnostic>> {
    let crate_name = names::snake_case(&ir.service.name);
    let modules: Vec<(&str, TokenStream)> = vec![
        ("src/lib.rs", runtime::lib_rs(ir)),
        ("src/main.rs", runtime::main_rs(&crate_name)),
        ("src/config.rs", config::config_rs(ir)),
        ("src/telemetry.rs", runtime::telemetry_rs()),
        ("src/error.rs", runtime::error_rs(ir)),
        ("src/db.rs", runtime::db_rs(ir)),
        ("src/state.rs", runtime::state_rs()),
        ("src/health.rs", runtime::health_rs()),
        ("src/http.rs", runtime::http_rs()),
        ("src/startup.rs", runtime::startup_rs()),
    ];
    let mut out = Output::new();
    let mut errors = Vec::new();
    for (path, tokens) in modules {
        match file::render(path, spec, tokens) {
            Ok(text) => {
                out.insert(path.to_string(), generated(text));
            }
            Err(message) => errors.push(
                Diagnostic::error(Code::INTERNAL, ir.service.span, message)
                    .with_help("this is a bug in svcc; please report it with the spec"),
            ),
        }
    }
    out.insert(
        "Cargo.toml".to_string(),
        generated(manifest::cargo_toml(ir, &crate_name, spec)),
    );
    out.insert(".env.example".to_string(), generated(env_example(ir, spec)));
    out.insert(
        ".gitignore".to_string(),
        generated(format!(
            "# {}\n/target\n*.db\n*.db-shm\n*.db-wal\n",
            file::header_text(spec)
        )),
    );
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn generated(contents: String) -> OutputFile {
    OutputFile {
        contents,
        owner: Owner::Generated,
    }
}

/// Every variable the service reads, with its default and a comment.
fn env_example(ir: &Ir, spec: &str) -> String {
    let mut out = format!(
        "# {}\n# Every variable the service reads. Copy to `.env` or set them in the environment.\n",
        file::header_text(spec)
    );
    for v in env_vars(ir) {
        let _ = write!(out, "\n# {}\n", v.doc);
        match &v.default {
            Some(d) => {
                let _ = writeln!(out, "{}={d}", v.name);
            }
            None => {
                let _ = writeln!(out, "# {}=", v.name);
            }
        }
    }
    out
}
