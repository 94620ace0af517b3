//! External checkers from PyPI (yamllint, hadolint, openapi-spec-validator), installed by
//! `scripts/test.sh` into one virtualenv outside the clone.

use std::path::PathBuf;

/// The virtualenv's `bin/`: `SVCC_PY_TOOLS`, else `~/.cache/svcc/venv/bin`.
fn tools_dir() -> PathBuf {
    match std::env::var_os("SVCC_PY_TOOLS") {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/svcc/venv/bin")
        }
    }
}

/// The path of `tool`, or `None` after a loud warning. Under `CI=true` a missing tool
/// fails the test instead: CI installs them all.
pub fn python_tool(tool: &str) -> Option<PathBuf> {
    let path = tools_dir().join(tool);
    if path.is_file() {
        return Some(path);
    }
    let message = format!(
        "`{tool}` is not installed in {} (scripts/test.sh installs it)",
        tools_dir().display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("WARNING: {message}: this check is SKIPPED");
    None
}
