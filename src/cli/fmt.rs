//! `svcc fmt`: rewrite files in canonical form, or `--check` that they are.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use svcc::source::SourceMap;
use svcc::syntax;

pub(super) fn run(paths: &[PathBuf], check: bool) -> io::Result<ExitCode> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files)?;
    }
    let mut unformatted = 0;
    let mut failed = 0;
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        let mut sources = SourceMap::new();
        let id = sources.add(file.display().to_string(), text.clone());
        let parsed = syntax::parse(sources.get(id));
        if !parsed.diagnostics.is_empty() {
            eprint!(
                "{}",
                super::renderer().render_all(&sources, &parsed.diagnostics)
            );
            failed += 1;
            continue;
        }
        let formatted = syntax::format::format(&parsed.file, &text);
        if formatted == text {
            continue;
        }
        unformatted += 1;
        if check {
            eprintln!("not formatted: {}", file.display());
        } else {
            std::fs::write(file, formatted)?;
            eprintln!("formatted: {}", file.display());
        }
    }
    let bad = failed > 0 || (check && unformatted > 0);
    Ok(if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    if !path.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() || entry.extension().is_some_and(|x| x == "svc") {
            collect(&entry, out)?;
        }
    }
    Ok(())
}
