//! `svcc run`: build a spec's service into a work directory, compile it with cargo and
//! start it on the embedded SQLite default.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Where `svcc run` keeps generated crates: `target/svcc-run/<service>` under the current
/// directory, so a repository's `target/` holds them.
fn work_dir(spec: &Path) -> PathBuf {
    let stem = if spec.is_dir() {
        spec.file_name()
    } else {
        spec.file_stem()
    };
    let name = stem.map_or_else(|| "service".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from("target").join("svcc-run").join(name)
}

/// Generated crates share one cargo target directory, so dependencies build once per machine.
pub(super) fn shared_target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("SVCC_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cache")));
    cache
        .unwrap_or_else(|_| std::env::temp_dir())
        .join("svcc")
        .join("target")
}

pub(super) fn run(spec: &Path, release: bool) -> io::Result<ExitCode> {
    let dir = work_dir(spec);
    if super::build::run(spec, &dir, false)? != ExitCode::SUCCESS {
        return Ok(ExitCode::FAILURE);
    }
    let target = shared_target_dir();
    eprintln!(
        "compiling {} (dependencies build once into {})",
        dir.display(),
        target.display()
    );
    let mut cargo = Command::new("cargo");
    cargo
        .arg("run")
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target);
    if release {
        cargo.arg("--release");
    }
    // A local run: readable logs, and the SQLite file inside the work directory.
    cargo.env(
        "LOG_FORMAT",
        std::env::var("LOG_FORMAT").unwrap_or_else(|_| "pretty".into()),
    );
    let compilation = super::compile_quietly(spec)?;
    if let Some(name) = jwt_secret_var(&compilation.ir)
        && std::env::var_os(&name).is_none()
    {
        eprintln!("{name} is not set: signing tokens with a throwaway secret for this run");
        cargo.env(&name, throwaway_secret());
    }
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    eprintln!("starting: http://127.0.0.1:{port}/health (Ctrl-C stops it)");
    let status = cargo.status()?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The variable the service reads its token-signing secret from, if it signs tokens.
fn jwt_secret_var(ir: &svcc::ir::Ir) -> Option<String> {
    match &ir.auth.as_ref()?.secret.value {
        svcc::ir::ConfigValue::Env { name, .. } => Some(name.clone()),
        svcc::ir::ConfigValue::Literal(_) => None,
    }
}

/// 64 hex digits that differ on every run: tokens from one local run do not verify in the
/// next. Seeded by the standard library's per-process random hash keys.
fn throwaway_secret() -> String {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    (0..4u64)
        .map(|i| format!("{:016x}", state.hash_one(i)))
        .collect()
}
