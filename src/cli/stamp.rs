//! The build stamp, `<out>/.svcc/stamp`: what a build generated from (this svcc binary and the
//! spec's sources) and a hash of every file it owns. A later build from the same inputs
//! whose files are all still as written has nothing to do, so it skips lowering, which is
//! most of a build's time. Any difference (a new svcc, an edited spec, a generated file
//! changed or deleted on disk, a starter file deleted) means a full build.
//!
//! A full build by the same binary still uses the stamp: it records the fingerprint of the
//! tokens each Rust module was printed from, so modules an edit did not touch are read back
//! instead of printed again (`Earlier`).

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use svcc::lower::{OutputFile, Owner};
use svcc::source::SourceMap;

/// Where the stamp lives, relative to the output directory (the generated `.gitignore`
/// leaves it out of version control).
const PATH: &str = ".svcc/stamp";

/// The inputs of a build: this binary (a rebuilt svcc may generate differently), then the
/// same and every source file by name and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Key {
    binary: u64,
    build: u64,
}

pub(super) fn key(sources: &SourceMap) -> io::Result<Key> {
    let mut hasher = DefaultHasher::new();
    let exe = std::env::current_exe()?;
    let meta = std::fs::metadata(&exe)?;
    exe.hash(&mut hasher);
    meta.len().hash(&mut hasher);
    meta.modified()?.hash(&mut hasher);
    let binary = hasher.finish();
    for file in sources.files() {
        file.name.hash(&mut hasher);
        file.text.hash(&mut hasher);
    }
    Ok(Key {
        binary,
        build: hasher.finish(),
    })
}

/// Whether `out_dir` holds exactly what a build with `key` wrote there.
pub(super) fn is_current(out_dir: &Path, key: Key) -> bool {
    let Ok(stamp) = std::fs::read_to_string(out_dir.join(PATH)) else {
        return false;
    };
    let mut lines = stamp.lines();
    if lines.next() != Some(header(key).as_str()) {
        return false;
    }
    lines.all(|line| match parse(line) {
        Some((Entry::Exists, path)) => out_dir.join(path).is_file(),
        Some((Entry::Generated { hash, .. }, path)) => {
            std::fs::read(out_dir.join(path)).is_ok_and(|bytes| content_hash(&bytes) == hash)
        }
        None => false,
    })
}

/// What the stamp says about one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// A user-owned file, which only has to exist.
    Exists,
    /// A generated file's hash, and for a Rust module the fingerprint of its tokens.
    Generated { hash: u64, fingerprint: Option<u64> },
}

/// `<hash> <path>`, `<hash>:<fingerprint> <path>` or `exists <path>`.
fn parse(line: &str) -> Option<(Entry, &str)> {
    let (entry, path) = line.split_once(' ')?;
    if entry == "exists" {
        return Some((Entry::Exists, path));
    }
    let hex = |text: &str| u64::from_str_radix(text, 16).ok();
    let entry = match entry.split_once(':') {
        Some((hash, fingerprint)) => Entry::Generated {
            hash: hex(hash)?,
            fingerprint: Some(hex(fingerprint)?),
        },
        None => Entry::Generated {
            hash: hex(entry)?,
            fingerprint: None,
        },
    };
    Some((entry, path))
}

/// The files a build made, to record in its stamp.
#[derive(Default)]
pub(super) struct Entries(BTreeMap<String, Entry>);

impl Entries {
    /// Records a file the build made: a generated file's hash, or that a user-owned one
    /// exists (the user owns its contents).
    pub(super) fn record(&mut self, path: String, file: &OutputFile, fingerprint: Option<u64>) {
        let entry = match file.owner {
            Owner::Generated => Entry::Generated {
                hash: content_hash(file.contents.as_bytes()),
                fingerprint,
            },
            Owner::UserSeed => Entry::Exists,
        };
        self.0.insert(path, entry);
    }
}

/// Records a build from `key`. A stamp that cannot be written only costs the next build
/// its shortcut.
pub(super) fn write(out_dir: &Path, key: Key, entries: &Entries) {
    let mut stamp = header(key);
    for (path, entry) in &entries.0 {
        stamp.push('\n');
        match entry {
            Entry::Exists => stamp.push_str("exists"),
            Entry::Generated { hash, fingerprint } => {
                stamp.push_str(&format!("{hash:016x}"));
                if let Some(fingerprint) = fingerprint {
                    stamp.push_str(&format!(":{fingerprint:016x}"));
                }
            }
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

fn header(key: Key) -> String {
    format!("svcc-stamp {:016x} {:016x}", key.build, key.binary)
}

/// The Rust modules the last build in `out_dir` printed, when this same binary made it:
/// path → (fingerprint of its tokens, hash of its text).
pub(super) struct Earlier {
    out_dir: PathBuf,
    modules: HashMap<String, (u64, u64)>,
}

impl Earlier {
    pub(super) fn read(out_dir: &Path, key: Key) -> Earlier {
        let stamp = std::fs::read_to_string(out_dir.join(PATH)).unwrap_or_default();
        let mut lines = stamp.lines();
        let same_binary = lines
            .next()
            .and_then(|h| h.rsplit_once(' '))
            .is_some_and(|(_, binary)| binary == format!("{:016x}", key.binary));
        let modules = lines
            .filter(|_| same_binary)
            .filter_map(parse)
            .filter_map(|(entry, path)| match entry {
                Entry::Generated {
                    hash,
                    fingerprint: Some(fingerprint),
                } => Some((path.to_string(), (fingerprint, hash))),
                _ => None,
            })
            .collect();
        Earlier {
            out_dir: out_dir.to_path_buf(),
            modules,
        }
    }

    /// The module at `path` if the last build printed it from tokens with `fingerprint`
    /// and it is still as that build wrote it.
    pub(super) fn module(&self, path: &str, fingerprint: u64) -> Option<String> {
        let (printed_from, hash) = self.modules.get(path)?;
        if *printed_from != fingerprint {
            return None;
        }
        let text = std::fs::read_to_string(self.out_dir.join(path)).ok()?;
        (content_hash(text.as_bytes()) == *hash).then_some(text)
    }
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

    const KEY: Key = Key {
        binary: 1,
        build: 7,
    };

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
        assert!(!is_current(dir, KEY), "no stamp yet");
        let mut entries = Entries::default();
        for (path, file) in &output {
            entries.record(path.clone(), file, None);
        }
        write(dir, KEY, &entries);
        assert!(is_current(dir, KEY));
        let edited = Key { build: 8, ..KEY };
        assert!(!is_current(dir, edited), "an edited spec");
        let rebuilt = Key { binary: 2, ..KEY };
        assert!(!is_current(dir, rebuilt), "another svcc");

        // The user's own file may change; a generated one may not.
        std::fs::write(dir.join("src/handlers/mine.rs"), "// edited\n").expect("write");
        assert!(is_current(dir, KEY));
        std::fs::write(dir.join("src/main.rs"), "fn main() { }\n").expect("write");
        assert!(!is_current(dir, KEY), "a generated file was edited");

        write_files(dir, &output);
        std::fs::remove_file(dir.join("src/handlers/mine.rs")).expect("remove");
        assert!(!is_current(dir, KEY), "a starter file was deleted");
    }

    #[test]
    fn a_module_is_read_back_only_from_the_same_tokens_binary_and_text() {
        let dir = std::env::temp_dir().join(format!("svcc-earlier-test-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        let output = output();
        write_files(&dir, &output);
        let mut entries = Entries::default();
        for (path, file) in &output {
            let fingerprint = (file.owner == Owner::Generated).then_some(42);
            entries.record(path.clone(), file, fingerprint);
        }
        write(&dir, KEY, &entries);

        let edited_spec = Key { build: 8, ..KEY };
        let earlier = Earlier::read(&dir, edited_spec);
        assert_eq!(
            earlier.module("src/main.rs", 42).as_deref(),
            Some("fn main() {}\n")
        );
        assert_eq!(earlier.module("src/main.rs", 43), None, "other tokens");
        assert_eq!(
            earlier.module("src/handlers/mine.rs", 42),
            None,
            "not a module"
        );

        let rebuilt = Key { binary: 2, ..KEY };
        assert_eq!(Earlier::read(&dir, rebuilt).module("src/main.rs", 42), None);

        std::fs::write(dir.join("src/main.rs"), "fn main() { }\n").expect("write");
        assert_eq!(earlier.module("src/main.rs", 42), None, "edited since");
        std::fs::remove_dir_all(&dir).ok();
    }
}
