//! Finds and parses every file of a spec: the root file, the files it `use`s, and the
//! embedded standard library. Reads through [`FileSystem`] so the pipeline stays testable
//! without a disk; only `cli` passes the real one.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::{self, ast};

/// The standard library, embedded in the binary: module name → source.
pub static STDLIB: &[(&str, &str)] = &[
    ("mixins", include_str!("../stdlib/mixins.svc")),
    ("policies", include_str!("../stdlib/policies.svc")),
    ("types", include_str!("../stdlib/types.svc")),
];

pub trait FileSystem {
    fn read(&self, path: &Path) -> io::Result<String>;
}

/// Files in memory, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryFs(pub BTreeMap<PathBuf, String>);

impl FileSystem for MemoryFs {
    fn read(&self, path: &Path) -> io::Result<String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
}

/// Every parsed file of one spec.
#[derive(Debug)]
pub struct Workspace {
    pub sources: SourceMap,
    /// Parsed files, indexed like `sources`.
    pub files: Vec<ast::File>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads the spec rooted at `root` (a `.svc` file). A root that cannot be read is an `Err`.
pub fn load(root: &Path, fs: &dyn FileSystem) -> io::Result<Workspace> {
    let text = fs.read(root)?;
    let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = root.file_name().map_or_else(
        || root.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut loader = Loader {
        fs,
        dir,
        ws: Workspace {
            sources: SourceMap::new(),
            files: Vec::new(),
            diagnostics: Vec::new(),
        },
        paths: BTreeMap::new(),
    };
    let id = loader.add(name, text);
    loader
        .paths
        .insert(normalize(Path::new(&loader.ws.sources.get(id).name)), id);
    loader.follow(id, &mut vec![id]);
    Ok(loader.ws)
}

/// Loads a spec held in one string, as `name`; imports resolve against `fs`.
pub fn load_text(name: &str, text: &str, fs: &dyn FileSystem) -> Workspace {
    let mut loader = Loader {
        fs,
        dir: PathBuf::new(),
        ws: Workspace {
            sources: SourceMap::new(),
            files: Vec::new(),
            diagnostics: Vec::new(),
        },
        paths: BTreeMap::new(),
    };
    let id = loader.add(name.to_string(), text.to_string());
    loader.paths.insert(normalize(Path::new(name)), id);
    loader.follow(id, &mut vec![id]);
    loader.ws
}

struct Loader<'a> {
    fs: &'a dyn FileSystem,
    /// Directory of the root file; file names are relative to it.
    dir: PathBuf,
    ws: Workspace,
    /// Normalised relative path → file, so each file is parsed once.
    paths: BTreeMap<PathBuf, FileId>,
}

impl Loader<'_> {
    fn add(&mut self, name: String, text: String) -> FileId {
        let id = self.ws.sources.add(name, text);
        let parsed = syntax::parse(self.ws.sources.get(id));
        self.ws.files.push(parsed.file);
        self.ws.diagnostics.extend(parsed.diagnostics);
        id
    }

    /// Loads the imports of `id`, depth first; `stack` is the chain of files being loaded.
    fn follow(&mut self, id: FileId, stack: &mut Vec<FileId>) {
        let uses: Vec<ast::Use> = self.ws.files[id.0 as usize]
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ast::ItemKind::Use(u) => Some(u.clone()),
                _ => None,
            })
            .collect();
        for target in uses {
            let Some((key, span)) = self.resolve(id, &target) else {
                continue;
            };
            if let Some(&existing) = self.paths.get(&key) {
                if stack.contains(&existing) {
                    self.cycle(existing, span, stack);
                }
                continue;
            }
            let Some(next) = self.read(&key, &target, span) else {
                continue;
            };
            self.paths.insert(key, next);
            stack.push(next);
            self.follow(next, stack);
            stack.pop();
        }
    }

    fn resolve(&mut self, from: FileId, target: &ast::Use) -> Option<(PathBuf, Span)> {
        match target {
            ast::Use::Std { module, span } => {
                Some((PathBuf::from(format!("std/{module}.svc")), *span))
            }
            ast::Use::File(lit) => {
                let base = Path::new(&self.ws.sources.get(from).name)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                Some((normalize(&base.join(&lit.value)), lit.span))
            }
        }
    }

    fn read(&mut self, key: &Path, target: &ast::Use, span: Span) -> Option<FileId> {
        let name = key.to_string_lossy().replace('\\', "/");
        let text = match target {
            ast::Use::Std { module, .. } => match STDLIB.iter().find(|(m, _)| m == module) {
                Some((_, text)) => Ok((*text).to_string()),
                None => {
                    let known = STDLIB.iter().map(|(m, _)| *m);
                    let mut d = Diagnostic::error(
                        Code::IMPORT_NOT_FOUND,
                        span,
                        format!("the standard library has no module `{module}`"),
                    )
                    .with_label("unknown module");
                    d = d.with_help(
                        crate::diagnostics::did_you_mean(module, known)
                            .unwrap_or_else(|| format!("available: {}", stdlib_names())),
                    );
                    self.ws.diagnostics.push(d);
                    return None;
                }
            },
            ast::Use::File(_) => self.fs.read(&self.dir.join(key)),
        };
        match text {
            Ok(text) => Some(self.add(name, text)),
            Err(err) => {
                // The OS's wording differs between platforms; say what happened in ours.
                let reason = if err.kind() == std::io::ErrorKind::NotFound {
                    "no such file".to_string()
                } else {
                    err.kind().to_string()
                };
                self.ws.diagnostics.push(
                    Diagnostic::error(
                        Code::IMPORT_NOT_FOUND,
                        span,
                        format!("cannot read `{name}`: {reason}"),
                    )
                    .with_label("imported here")
                    .with_help("paths in `use` are relative to the importing file"),
                );
                None
            }
        }
    }

    fn cycle(&mut self, existing: FileId, span: Span, stack: &[FileId]) {
        let start = stack.iter().position(|f| *f == existing).unwrap_or(0);
        let mut chain: Vec<&str> = stack[start..]
            .iter()
            .map(|f| self.ws.sources.get(*f).name.as_str())
            .collect();
        chain.push(&self.ws.sources.get(existing).name);
        let message = format!("import cycle: {}", chain.join(" → "));
        self.ws.diagnostics.push(
            Diagnostic::error(Code::IMPORT_CYCLE, span, message)
                .with_label("this import closes the cycle")
                .with_help("declarations are visible across all files of a spec; move the shared ones into a file both import"),
        );
    }
}

fn stdlib_names() -> String {
    STDLIB
        .iter()
        .map(|(m, _)| format!("`std.{m}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Resolves `.` and `..` without touching the disk.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
