//! `svcc build`: lower a checked spec and write the files, or `--check` them for drift.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use svcc::lower::sql::Dialect;
use svcc::lower::{Output, Owner, sql};

use super::{compile_reporting, renderer, stamp};

pub(super) fn run(spec: &Path, out_dir: &Path, check: bool) -> io::Result<ExitCode> {
    let Some(c) = compile_reporting(spec)? else {
        return Ok(ExitCode::FAILURE);
    };
    let key = stamp::key(&c.sources)?;
    if stamp::is_current(out_dir, key) {
        let state = if check {
            "matches the spec"
        } else {
            "is up to date"
        };
        eprintln!("{} {state}", out_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let previous = read_snapshot(out_dir)?;
    let existing = existing_versions(out_dir)?;
    let spec_name = c
        .sources
        .files()
        .first()
        .map_or_else(String::new, |f| f.name.clone());
    let output = match sql::migrations(&c.ir, previous.as_ref(), &existing).and_then(|built| {
        let crate_files = svcc::lower::service(&c.ir, &spec_name)?;
        let mut output = crate_files.output;
        output.extend(built.output);
        let mut warnings = built.warnings;
        warnings.extend(crate_files.warnings);
        Ok((output, warnings))
    }) {
        Ok((output, warnings)) => {
            if !warnings.is_empty() {
                eprint!("{}", renderer().render_all(&c.sources, &warnings));
            }
            output
        }
        Err(diagnostics) => {
            eprint!("{}", renderer().render_all(&c.sources, &diagnostics));
            eprintln!("nothing written");
            return Ok(ExitCode::FAILURE);
        }
    };
    if check {
        return drift(out_dir, &output);
    }
    let written = write(out_dir, &output)?;
    stamp::write(out_dir, key, &output);
    if written.is_empty() {
        eprintln!("{} is up to date", out_dir.display());
    } else {
        for path in &written {
            eprintln!("wrote {}", out_dir.join(path).display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_snapshot(out_dir: &Path) -> io::Result<Option<sql::Schema>> {
    let path = out_dir.join("migrations/schema.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => sql::parse_snapshot(&text).map(Some).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is not a schema snapshot written by this svcc",
                    path.display()
                ),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Version numbers of the migrations already in `migrations/<dialect>/`.
fn existing_versions(out_dir: &Path) -> io::Result<BTreeMap<Dialect, Vec<u32>>> {
    let mut all = BTreeMap::new();
    for dialect in [Dialect::Postgres, Dialect::Sqlite] {
        let mut versions = BTreeSet::new();
        let dir = out_dir.join("migrations").join(dialect.dir());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            if let (Ok(v), true) = (digits.parse::<u32>(), name.ends_with(".up.sql")) {
                versions.insert(v);
            }
        }
        all.insert(dialect, versions.into_iter().collect());
    }
    Ok(all)
}

/// Writes changed generated files and missing user-owned ones, each atomically (a
/// temporary file renamed into place). Unchanged files are not touched.
fn write(out_dir: &Path, output: &Output) -> io::Result<Vec<String>> {
    let mut written = Vec::new();
    for (path, file) in output {
        let target = out_dir.join(path);
        let current = std::fs::read_to_string(&target).ok();
        let skip = match file.owner {
            Owner::Generated => current.as_deref() == Some(file.contents.as_str()),
            Owner::UserSeed => current.is_some(),
        };
        if skip {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = temp_path(&target);
        std::fs::write(&tmp, &file.contents)?;
        std::fs::rename(&tmp, &target)?;
        written.push(path.clone());
    }
    Ok(written)
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    target.with_file_name(format!(".{name}.svcc-tmp"))
}

/// `--check`: a unified diff of every generated file that differs from disk.
fn drift(out_dir: &Path, output: &Output) -> io::Result<ExitCode> {
    let mut drifted = 0;
    for (path, file) in output.iter().filter(|(_, f)| f.owner == Owner::Generated) {
        let current = std::fs::read_to_string(out_dir.join(path)).unwrap_or_default();
        if current == file.contents {
            continue;
        }
        drifted += 1;
        let diff = similar::TextDiff::from_lines(&current, &file.contents);
        print!(
            "{}",
            diff.unified_diff()
                .header(&format!("a/{path}"), &format!("b/{path}"))
        );
    }
    if drifted > 0 {
        eprintln!(
            "{drifted} generated file(s) differ from what the spec produces; run `svcc build` and commit"
        );
        return Ok(ExitCode::FAILURE);
    }
    eprintln!("{} matches the spec", out_dir.display());
    Ok(ExitCode::SUCCESS)
}
