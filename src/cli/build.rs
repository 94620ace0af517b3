//! `svcc build`: lower a checked spec and write the files, or `--check` them for drift.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Mutex, PoisonError};
use std::thread::{Scope, ScopedJoinHandle};

use svcc::lower::sql::Dialect;
use svcc::lower::{OutputFile, Owner, Sink, sql};

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
    let plan = match sql::plan(&c.ir, previous.as_ref(), &existing) {
        Ok(plan) => plan,
        Err(diagnostics) => {
            eprint!("{}", renderer().render_all(&c.sources, &diagnostics));
            eprintln!("nothing written");
            return Ok(ExitCode::FAILURE);
        }
    };
    let (lowered, done) = std::thread::scope(|scope| {
        let earlier = stamp::Earlier::read(out_dir, key);
        let (files, store) = Files::start(out_dir, check, earlier, scope);
        // Nothing can refuse the migrations any more: their SQL is rendered while the
        // crate is lowered.
        let lowered = svcc::lower::service_into(&c.ir, &spec_name, Some(plan), &files);
        (lowered, files.finish(store))
    });
    let done = done?;
    let warnings = match lowered {
        Ok(warnings) => warnings,
        Err(diagnostics) => {
            eprint!("{}", renderer().render_all(&c.sources, &diagnostics));
            if !check && !done.changed.is_empty() {
                // No stamp is written, so the next build rewrites every file.
                eprintln!(
                    "{} file(s) were written before the error; the build is incomplete",
                    done.changed.len()
                );
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    if !warnings.is_empty() {
        eprint!("{}", renderer().render_all(&c.sources, &warnings));
    }
    if check {
        return Ok(report_drift(out_dir, &done));
    }
    stamp::write(out_dir, key, &done.stamp);
    if done.changed.is_empty() {
        eprintln!("{} is up to date", out_dir.display());
    } else {
        // One write for the whole list: a large spec writes thousands of files.
        let mut report = io::BufWriter::new(io::stderr().lock());
        for path in &done.changed {
            writeln!(report, "wrote {}", out_dir.join(path).display())?;
        }
        report.flush()?;
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

/// Where `svcc build` puts each file the moment lowering makes it: one thread writes
/// them to disk, or for `--check` compares them with what is there. One thread, because
/// creating files from two at once made the kernel's share of a build twice as large.
struct Files {
    sender: SyncSender<Vec<Made>>,
    /// Files made and not handed over yet: sent in batches of `BATCH`, the writer is woken
    /// once per batch instead of once per file.
    pending: Mutex<Vec<Made>>,
    earlier: stamp::Earlier,
}

const BATCH: usize = 16;

/// A file and, for a Rust module, the fingerprint of the tokens it was printed from.
type Made = (String, OutputFile, Option<u64>);

type Store<'scope> = ScopedJoinHandle<'scope, io::Result<Progress>>;

#[derive(Default)]
struct Progress {
    /// Paths written.
    changed: Vec<String>,
    /// Unified diffs of the generated files that differ from disk, for `--check`.
    diffs: BTreeMap<String, String>,
    stamp: stamp::Entries,
}

impl Files {
    fn start<'scope>(
        out_dir: &'scope Path,
        check: bool,
        earlier: stamp::Earlier,
        scope: &'scope Scope<'scope, '_>,
    ) -> (Files, Store<'scope>) {
        // Bounded, so files wait in memory only while the disk is behind.
        let (sender, received) = std::sync::mpsc::sync_channel(4);
        let store = scope.spawn(move || store(out_dir, check, &received));
        let pending = Mutex::new(Vec::with_capacity(BATCH));
        (
            Files {
                sender,
                pending,
                earlier,
            },
            store,
        )
    }

    fn send(&self, made: Made) {
        let full = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.push(made);
            (pending.len() >= BATCH)
                .then(|| std::mem::replace(&mut *pending, Vec::with_capacity(BATCH)))
        };
        if let Some(batch) = full {
            // The store only hangs up after an error, which `finish` reports.
            self.sender.send(batch).ok();
        }
    }

    /// What happened to every file, or the first error writing or reading one.
    fn finish(self, store: Store<'_>) -> io::Result<Progress> {
        let rest = self
            .pending
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        if !rest.is_empty() {
            self.sender.send(rest).ok();
        }
        drop(self.sender);
        let mut progress = store
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the thread writing files panicked")))?;
        progress.changed.sort();
        Ok(progress)
    }
}

impl Sink for Files {
    fn put(&self, path: String, file: OutputFile) {
        self.send((path, file, None));
    }

    fn put_module(&self, path: String, file: OutputFile, fingerprint: u64) {
        self.send((path, file, Some(fingerprint)));
    }

    fn earlier(&self, path: &str, fingerprint: u64) -> Option<String> {
        self.earlier.module(path, fingerprint)
    }
}

fn store(out_dir: &Path, check: bool, received: &Receiver<Vec<Made>>) -> io::Result<Progress> {
    let mut progress = Progress::default();
    let mut dirs = Dirs::new();
    for (path, file, fingerprint) in received.iter().flatten() {
        let target = out_dir.join(&path);
        if check {
            if file.owner == Owner::Generated
                && let Some(diff) = drift(&target, &path, &file.contents)
            {
                progress.diffs.insert(path, diff);
            }
            continue;
        }
        if write(&target, &file, &mut dirs)? {
            progress.changed.push(path.clone());
        }
        progress.stamp.record(path, &file, fingerprint);
    }
    Ok(progress)
}

/// Writes a changed generated file or a missing user-owned one atomically (a temporary
/// file renamed into place); answers whether it did. Unchanged files are not touched.
/// In a directory this build made there is nothing to read back or replace, so a generated
/// file is written in place: if the build dies halfway, it leaves no stamp, and the next
/// build rewrites every file that differs.
fn write(target: &Path, file: &OutputFile, dirs: &mut Dirs) -> io::Result<bool> {
    let fresh = match target.parent() {
        Some(parent) => directory(parent, dirs)?,
        None => false,
    };
    if !fresh {
        let current = std::fs::read_to_string(target).ok();
        let skip = match file.owner {
            Owner::Generated => current.as_deref() == Some(file.contents.as_str()),
            Owner::UserSeed => current.is_some(),
        };
        if skip {
            return Ok(false);
        }
    }
    if fresh && file.owner == Owner::Generated {
        std::fs::write(target, &file.contents)?;
    } else {
        let tmp = temp_path(target);
        std::fs::write(&tmp, &file.contents)?;
        std::fs::rename(&tmp, target)?;
    }
    Ok(true)
}

/// The directories met so far, and whether this build made each. Remembered because asking
/// the kernel again for each of hundreds of files in a few directories cost more than
/// writing them.
type Dirs = HashMap<PathBuf, bool>;

/// Makes `dir` if it is missing; answers whether this build made it.
fn directory(dir: &Path, dirs: &mut Dirs) -> io::Result<bool> {
    if let Some(made) = dirs.get(dir) {
        return Ok(*made);
    }
    let made = !dir.is_dir();
    std::fs::create_dir_all(dir)?;
    dirs.insert(dir.to_path_buf(), made);
    Ok(made)
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    target.with_file_name(format!(".{name}.svcc-tmp"))
}

/// A unified diff from what `target` holds to `contents`, when they differ.
fn drift(target: &Path, path: &str, contents: &str) -> Option<String> {
    let current = std::fs::read_to_string(target).unwrap_or_default();
    if current == contents {
        return None;
    }
    let diff = similar::TextDiff::from_lines(current.as_str(), contents);
    Some(
        diff.unified_diff()
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string(),
    )
}

/// `--check`: the diffs of every generated file that differs from disk, in path order.
fn report_drift(out_dir: &Path, done: &Progress) -> ExitCode {
    if done.diffs.is_empty() {
        eprintln!("{} matches the spec", out_dir.display());
        return ExitCode::SUCCESS;
    }
    for diff in done.diffs.values() {
        print!("{diff}");
    }
    eprintln!(
        "{} generated file(s) differ from what the spec produces; run `svcc build` and commit",
        done.diffs.len()
    );
    ExitCode::FAILURE
}
