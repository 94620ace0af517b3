//! The build stamp, `<out>/.svcc/stamp`: what a build generated from (this svcc binary and the
//! spec's sources) and a hash of every file it owns. A later build from the same inputs
//! whose files are all still as written has nothing to do, so it skips lowering, which is
//! most of a build's time. Any difference (a new svcc, an edited spec, a generated file
//! changed or deleted on disk, a starter file deleted) means a full build.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::Path;

use svcc::lower::{OutputFile, Owner};
use svcc::source::SourceMap;

/// Where the stamp lives, relative to the output directory (the generated `.gitignore`
/// leaves it out of version control).
const PATH: &str = ".svcc/stamp";

/// The inputs of a build: this binary (a rebuilt svcc may generate differently) and every
/// source file by name and text.
pub(super) fn key(sources: &SourceMap) -> io::Result<u64> {
    let mut hasher = DefaultHasher::new();
    let exe = std::env::current_exe()?;
    let meta = std::fs::metadata(&exe)?;
    exe.hash(&mut hasher);
    meta.len().hash(&mut hasher);
    meta.modified()?.hash(&mut hasher);
    for file in sources.files() {
        file.name.hash(&mut hasher);
        file.text.hash(&mut hasher);
    }
    Ok(hasher.finish())
}

/// Whether `out_dir` holds exactly what a build with `key` wrote there.
pub(super) fn is_current(out_dir: &Path, key: u64) -> bool {
    let Ok(stamp) = std::fs::read_to_string(out_dir.join(PATH)) else {
        return false;
    };
    let mut lines = stamp.lines();
    if lines.next() != Some(header(key).as_str()) {
        return false;
    }
    lines.all(|line| match line.split_once(' ') {
        Some(("exists", path)) => out_dir.join(path).is_file(),
        Some((hash, path)) => std::fs::read(out_dir.join(path))
            .is_ok_and(|bytes| format!("{:016x}", content_hash(&bytes)) == hash),
        None => false,
    })
}

/// The files a build made: each generated file's hash, and the user-owned ones, which
/// only have to exist.
#[derive(Default)]
pub(super) struct Entries(BTreeMap<String, Option<u64>>);

impl Entries {
    /// Records a file the build made: a generated file's hash, or that a user-owned one
    /// exists (the user owns its contents).
    pub(super) fn record(&mut self, path: String, file: &OutputFile) {
        let hash = match file.owner {
            Owner::Generated => Some(content_hash(file.contents.as_bytes())),
            Owner::UserSeed => None,
        };
        self.0.insert(path, hash);
    }
}

/// Records a build from `key`. A stamp that cannot be written only costs the next build
/// its shortcut.
pub(super) fn write(out_dir: &Path, key: u64, entries: &Entries) {
    let mut stamp = header(key);
    for (path, entry) in &entries.0 {
        stamp.push('\n');
        match entry {
            Some(hash) => stamp.push_str(&format!("{hash:016x}")),
            None => stamp.push_str("exists"),
        }
        stamp.push(' ');
        stamp.push_str(path);
    }
    stamp.push('\n');
    let target = out_dir.join(PATH);
    let written = target
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&target, stamp));
    if let Err(err) = written {
        eprintln!("warning: cannot write {}: {err}", target.display());
    }
}

fn header(key: u64) -> String {
    format!("svcc-stamp {key:016x}")
}

fn content_hash(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use svcc::lower::Output;

    fn output() -> Output {
        let mut output = Output::new();
        output.insert(
            "src/main.rs".into(),
            OutputFile {
                contents: "fn main() {}\n".into(),
                owner: Owner::Generated,
            },
        );
        output.insert(
            "src/handlers/mine.rs".into(),
            OutputFile {
                contents: "// yours\n".into(),
                owner: Owner::UserSeed,
            },
        );
        output
    }

    fn write_files(dir: &Path, output: &Output) {
        for (path, file) in output {
            let target = dir.join(path);
            std::fs::create_dir_all(target.parent().expect("a parent")).expect("mkdir");
            std::fs::write(target, &file.contents).expect("write");
        }
    }

    #[test]
    fn a_build_is_current_until_an_input_or_a_file_changes() {
        let dir = std::env::temp_dir().join(format!("svcc-stamp-test-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        run_in(&dir);
        std::fs::remove_dir_all(&dir).ok();
    }

    fn run_in(dir: &Path) {
        let output = output();
        write_files(dir, &output);
        assert!(!is_current(dir, 7), "no stamp yet");
        let mut entries = Entries::default();
        for (path, file) in &output {
            entries.record(path.clone(), file);
        }
        write(dir, 7, &entries);
        assert!(is_current(dir, 7));
        assert!(!is_current(dir, 8), "another svcc or spec");

        // The user's own file may change; a generated one may not.
        std::fs::write(dir.join("src/handlers/mine.rs"), "// edited\n").expect("write");
        assert!(is_current(dir, 7));
        std::fs::write(dir.join("src/main.rs"), "fn main() { }\n").expect("write");
        assert!(!is_current(dir, 7), "a generated file was edited");

        write_files(dir, &output);
        std::fs::remove_file(dir.join("src/handlers/mine.rs")).expect("remove");
        assert!(!is_current(dir, 7), "a starter file was deleted");
    }
}
