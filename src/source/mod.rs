//! Source files and spans: where every piece of the spec came from.

use std::fmt;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Self {
            file,
            start: to_u32(start),
            end: to_u32(end),
        }
    }

    /// The smallest span covering both.
    #[must_use]
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

fn to_u32(offset: usize) -> u32 {
    // Files are read through `SourceMap::add`, which rejects files over 4 GiB.
    u32::try_from(offset).unwrap_or(u32::MAX)
}

/// One loaded `.svc` file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub id: FileId,
    /// Display name: a path relative to the spec root, or `std/<name>.svc` for the stdlib.
    pub name: String,
    pub text: String,
}

impl SourceFile {
    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
        (line, col)
    }
}

/// Every file of one spec, including the stdlib files it uses.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let id = FileId(to_u32(self.files.len()));
        self.files.push(SourceFile {
            id,
            name: name.into(),
            text: text.into(),
        });
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        // FileIds are only minted by `add`, so the index is always in range.
        &self.files[id.0 as usize]
    }

    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files.iter().find(|f| f.name == name).map(|f| f.id)
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// `file:line:col` of the start of a span.
    pub fn location(&self, span: Span) -> Location<'_> {
        let file = self.get(span.file);
        let (line, col) = file.line_col(span.start);
        Location {
            file: &file.name,
            line,
            col,
        }
    }

    pub fn snippet(&self, span: Span) -> &str {
        let text = &self.get(span.file).text;
        text.get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

/// A human-readable position.
#[derive(Debug, Clone, Copy)]
pub struct Location<'a> {
    pub file: &'a str,
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}
