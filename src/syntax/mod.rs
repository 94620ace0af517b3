//! Stage 1: text → syntax tree.
//!
//! A file is cut into statements at lines that start with a top-level keyword, and each
//! statement is parsed on its own (a large file's two halves on two threads). pest stops
//! at the first error of a parse, so this also reports several syntax errors in one run:
//! every broken statement reports its error, every good one still reaches the resolver.

pub mod ast;
mod errors;
pub mod format;
mod from_pairs;
mod parser;

use pest::Parser as _;

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use parser::{Rule, SvcParser};

/// The result of parsing one file: the statements that parsed, and every syntax error.
#[derive(Debug)]
pub struct Parsed {
    pub file: ast::File,
    pub diagnostics: Vec<Diagnostic>,
}

/// Deeper nesting than this is rejected before pest sees it, so no input can exhaust the stack.
const MAX_NESTING: usize = 64;

const TOP_LEVEL_KEYWORDS: &[&str] = &[
    "use", "service", "entity", "mixin", "enum", "type", "resource", "policy", "event", "auth",
    "rate", "cache",
];

pub fn parse(source: &SourceFile) -> Parsed {
    let text = source.text.as_str();
    let (comments, nesting_error) = scan_comments(source);
    if let Some(diagnostic) = nesting_error {
        return Parsed {
            file: ast::File {
                items: Vec::new(),
                comments,
            },
            diagnostics: vec![diagnostic],
        };
    }
    // Statements are parsed on their own, each half of a large file on its own thread. A
    // statement that does not parse alone may still parse as part of the whole file (a line
    // inside a block that starts with a keyword at column 0): then the whole file decides,
    // and only if it fails too are the statements' errors reported.
    let chunks = statement_chunks(text);
    let (mut items, mut diagnostics) = if text.len() < PARALLEL_FROM {
        parse_statements(source, &comments, &chunks)
    } else {
        let (first, second) = chunks.split_at(chunks.partition_point(|c| c.0 < text.len() / 2));
        let (mine, theirs) = std::thread::scope(|scope| {
            let other = scope.spawn(|| parse_statements(source, &comments, second));
            (parse_statements(source, &comments, first), other.join())
        });
        // A bug in the parser panics here as it would on this thread.
        let (more_items, more_diagnostics) =
            theirs.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let (mut items, mut diagnostics) = mine;
        items.extend(more_items);
        diagnostics.extend(more_diagnostics);
        (items, diagnostics)
    };
    if !diagnostics.is_empty()
        && let Ok(mut pairs) = SvcParser::parse(Rule::file, text)
    {
        let builder = builder(source, &comments);
        items = pairs.next().map(|f| builder.items(f)).unwrap_or_default();
        diagnostics.clear();
    }
    Parsed {
        file: ast::File { items, comments },
        diagnostics,
    }
}

/// Files at least this large are parsed on two threads.
const PARALLEL_FROM: usize = 64 * 1024;

/// The items of the statements at `chunks` (byte ranges of the file), and the syntax error
/// of each one that does not parse.
fn parse_statements(
    source: &SourceFile,
    comments: &[ast::Comment],
    chunks: &[(usize, usize)],
) -> (Vec<ast::Item>, Vec<Diagnostic>) {
    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    let mut builder = builder(source, comments);
    for &(start, end) in chunks {
        let chunk = &source.text[start..end];
        match SvcParser::parse(Rule::file, chunk) {
            Ok(mut pairs) => {
                builder.offset = start;
                items.extend(pairs.next().map(|f| builder.items(f)).unwrap_or_default());
            }
            Err(err) => diagnostics.push(errors::syntax_error(&err, source.id, start, chunk)),
        }
    }
    (items, diagnostics)
}

/// A builder of the whole file's items; parsing a statement sets its `offset`.
fn builder<'s>(source: &'s SourceFile, comments: &[ast::Comment]) -> from_pairs::Builder<'s> {
    let comment_ends = comments
        .iter()
        .map(|c| (c.span.end as usize, c.span.start as usize))
        .collect();
    from_pairs::Builder {
        file: source.id,
        offset: 0,
        text: &source.text,
        comment_ends,
    }
}

/// Byte ranges that each start at a top-level keyword (with its doc comments) at column 0.
fn statement_chunks(text: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![0];
    let mut doc_start: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("///") {
            doc_start.get_or_insert(offset);
        } else if starts_statement(line) {
            starts.push(doc_start.unwrap_or(offset));
            doc_start = None;
        } else if !line.trim().is_empty() {
            doc_start = None;
        }
        offset += line.len();
    }
    starts.dedup();
    let mut ends: Vec<usize> = starts.iter().skip(1).copied().collect();
    ends.push(text.len());
    starts
        .into_iter()
        .zip(ends)
        .filter(|(s, e)| s < e)
        .collect()
}

fn starts_statement(line: &str) -> bool {
    TOP_LEVEL_KEYWORDS.iter().any(|kw| {
        line.strip_prefix(kw)
            .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
    })
}

/// Finds every `//` comment outside strings, and rejects absurd nesting depth.
fn scan_comments(source: &SourceFile) -> (Vec<ast::Comment>, Option<Diagnostic>) {
    let bytes = source.text.as_bytes();
    let mut comments = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = skip_string(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p);
                if bytes.get(i + 2) != Some(&b'/') {
                    let text = source.text[i + 2..end].trim_end().to_string();
                    let span = Span::new(source.id, i, i + 2 + text.len());
                    comments.push(ast::Comment { text, span });
                }
                i = end;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    let span = Span::new(source.id, i, i + 1);
                    let diagnostic = Diagnostic::error(Code::SYNTAX, span, "nesting is too deep")
                        .with_label(format!("more than {MAX_NESTING} open brackets"))
                        .with_help(
                            "split the expression or block; specs never need this much nesting",
                        );
                    return (comments, Some(diagnostic));
                }
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    (comments, None)
}

/// The index just past the string literal starting at `start`, or the end of its line.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn parse_text(text: &str) -> Parsed {
        let mut map = SourceMap::new();
        let id = map.add("t.svc", text);
        parse(map.get(id))
    }

    #[test]
    fn recovers_at_next_statement() {
        let parsed = parse_text(
            "entity A {\n  x: \n}\nentity B {\n  y: int\n}\nenum C { a b }\nentity D { = }\n",
        );
        assert_eq!(parsed.diagnostics.len(), 2);
        assert_eq!(parsed.file.items.len(), 2);
    }

    #[test]
    fn a_statement_split_inside_a_block_still_parses_as_a_whole() {
        let parsed = parse_text("enum E {\n  a\nrate\n}\nentity A {\n  x: int\n}\n");
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert_eq!(parsed.file.items.len(), 2);
    }

    /// Statement by statement, on one thread or two, gives what one parse of the file does.
    #[test]
    fn statements_parsed_apart_give_the_whole_file_parse() {
        let mut texts: Vec<String> = [
            include_str!("../../examples/shop.svc"),
            include_str!("../../examples/blog.svc"),
            include_str!("../../examples/tracker/main.svc"),
            include_str!("../../examples/tracker/model.svc"),
            include_str!("../../examples/tracker/api.svc"),
            include_str!("../../stdlib/types.svc"),
            include_str!("../../stdlib/mixins.svc"),
            include_str!("../../stdlib/policies.svc"),
        ]
        .map(String::from)
        .into();
        // Large enough for two threads.
        let all = texts.join("\n");
        texts.push(all.repeat(PARALLEL_FROM / all.len() + 1));
        for text in texts {
            let mut map = SourceMap::new();
            let id = map.add("t.svc", text);
            let source = map.get(id);
            let parsed = parse(source);
            assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
            let mut pairs = SvcParser::parse(Rule::file, &source.text).unwrap();
            let whole = builder(source, &parsed.file.comments).items(pairs.next().unwrap());
            assert!(parsed.file.items.len() > 1);
            assert_eq!(parsed.file.items, whole);
        }
    }

    #[test]
    fn comments_are_collected_but_not_strings() {
        let parsed = parse_text(
            "// one\nentity A { x: string @pattern(\"a//b\") // two\n}\n/// doc\nenum E { a }\n",
        );
        let texts: Vec<_> = parsed
            .file
            .comments
            .iter()
            .map(|c| c.text.as_str())
            .collect();
        assert_eq!(texts, [" one", " two"]);
        assert!(parsed.diagnostics.is_empty());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("policy p = {}a{}", "(".repeat(500), ")".repeat(500));
        assert_eq!(parse_text(&text).diagnostics.len(), 1);
    }
}
