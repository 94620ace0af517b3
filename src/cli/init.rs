//! `svcc init <name>`: a directory holding a commented starter spec that passes every
//! readiness rule, ready for `svcc run`.

use std::io;
use std::path::Path;
use std::process::ExitCode;

use svcc::load::MemoryFs;

/// The starter spec; `__NAME__` becomes the service name.
const STARTER: &str = include_str!("starter.svc");

pub(super) fn run(name: &str) -> io::Result<ExitCode> {
    let Some(service) = service_name(name) else {
        eprintln!(
            "error: `{name}` cannot name a service: use a lowercase letter followed by letters, digits, `_` or `-`"
        );
        return Ok(ExitCode::FAILURE);
    };
    let dir = Path::new(name);
    if dir.exists() && (dir.is_file() || std::fs::read_dir(dir)?.next().is_some()) {
        eprintln!(
            "error: `{name}` already exists and is not empty; svcc init never writes over files"
        );
        return Ok(ExitCode::FAILURE);
    }
    let spec = starter(&service);
    std::fs::create_dir_all(dir)?;
    let path = dir.join("main.svc");
    std::fs::write(&path, spec)?;
    eprintln!("wrote {}", path.display());
    eprintln!("next: `svcc run {name}` starts the service on SQLite;");
    eprintln!("      `svcc build {name} -o {name}/service` writes its crate, migrations and docs.");
    Ok(ExitCode::SUCCESS)
}

/// `my-app` → `my_app`; `None` unless it is a lowercase identifier the spec accepts.
fn service_name(name: &str) -> Option<String> {
    let service = name.replace('-', "_");
    let mut chars = service.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !(first_ok && rest_ok) {
        return None;
    }
    // A keyword, say, would not parse: the starter must compile cleanly under its name.
    let compiled = svcc::compile_text("main.svc", &starter(&service), &MemoryFs::default());
    compiled.diagnostics.is_empty().then_some(service)
}

fn starter(service: &str) -> String {
    STARTER.replace("__NAME__", service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_spec_passes_every_rule_without_a_warning() {
        let compiled = svcc::compile_text("main.svc", &starter("notes"), &MemoryFs::default());
        let rendered = svcc::diagnostics::render_plain(&compiled.sources, &compiled.diagnostics);
        assert!(compiled.diagnostics.is_empty(), "{rendered}");
    }

    #[test]
    fn names_become_service_identifiers() {
        assert_eq!(service_name("notes").as_deref(), Some("notes"));
        assert_eq!(service_name("my-notes2").as_deref(), Some("my_notes2"));
        assert_eq!(service_name("Notes"), None);
        assert_eq!(service_name("2notes"), None);
        assert_eq!(service_name("no tes"), None);
        assert_eq!(service_name(""), None);
    }
}
