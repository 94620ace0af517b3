//! The front end never panics: thousands of mutated and truncated versions of the examples
//! each come back as a clean result with diagnostics.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

mod common;

use std::panic;

use common::*;
use svcc::load::MemoryFs;

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "@",
    ":",
    "=",
    ",",
    ".",
    "..",
    "?",
    "\"",
    "///",
    "//",
    "\n",
    " ",
    "ref",
    "many",
    "entity",
    "resource",
    "auth",
    "owner(",
    "role(",
    "env(",
    "0",
    "-1",
    "99999999999999999999",
    "1..",
    "..",
    "@default(",
    "@through(",
    "include",
    "index",
    "primary",
    "check",
    "not",
    "or",
    "in",
    "null",
    "true",
    "1s",
    "é",
    "\u{0}",
    "list",
    "action",
];

fn mutate(text: &str, rng: &mut XorShift) -> String {
    let mut bytes: Vec<u8> = text.as_bytes().to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len());
        match rng.below(5) {
            0 => bytes.truncate(at),
            1 => {
                let end = (at + rng.below(40)).min(bytes.len());
                bytes.drain(at..end);
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                bytes.splice(at..at, token.bytes());
            }
            3 => {
                let lines: Vec<&str> = text.lines().collect();
                let line = lines[rng.below(lines.len())];
                bytes.splice(at..at, line.bytes());
            }
            _ => {
                if let Some(b) = bytes.get_mut(at) {
                    *b = b"{}()[]@:=,.\"x1 \n"[rng.below(16)];
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn mutated_examples_never_panic() {
    let mut rng = XorShift(0x5eed_5eed_1234_5678);
    let mut runs = 0;
    for spec in example_specs() {
        let dir = spec.parent().unwrap();
        let mut fs = MemoryFs::default();
        for file in svc_files(dir)
            .into_iter()
            .filter(|f| f.parent() == Some(dir))
        {
            fs.0.insert(
                file.file_name().unwrap().into(),
                std::fs::read_to_string(&file).unwrap(),
            );
        }
        let name = spec.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&spec).unwrap();
        for i in 0..1200 {
            let input = mutate(&text, &mut rng);
            let result = panic::catch_unwind(|| {
                let c = svcc::compile_text(&name, &input, &fs);
                svcc::diagnostics::render_plain(&c.sources, &c.diagnostics);
                let _ = svcc::ir::dump(&c.ir);
            });
            assert!(
                result.is_ok(),
                "mutation {i} of {name} panicked; input:\n{input}"
            );
            runs += 1;
        }
        // Every prefix at line boundaries: the truncations an editor produces while typing.
        for (at, _) in text.match_indices('\n') {
            let input = &text[..at];
            let result = panic::catch_unwind(|| svcc::compile_text(&name, input, &fs));
            assert!(result.is_ok(), "truncation at {at} of {name} panicked");
            runs += 1;
        }
    }
    assert!(runs > 3000, "only {runs} inputs were tried");
}

#[test]
fn formatter_never_panics_on_mutations() {
    let mut rng = XorShift(0x0fed_cba9_8765_4321);
    for spec in example_specs() {
        let text = std::fs::read_to_string(&spec).unwrap();
        for i in 0..300 {
            let input = mutate(&text, &mut rng);
            let result = panic::catch_unwind(|| {
                let mut map = svcc::source::SourceMap::new();
                let id = map.add("x.svc", input.clone());
                let parsed = svcc::syntax::parse(map.get(id));
                if parsed.diagnostics.is_empty() {
                    let _ = svcc::syntax::format::format(&parsed.file, &input);
                }
            });
            assert!(
                result.is_ok(),
                "formatting mutation {i} panicked; input:\n{input}"
            );
        }
    }
}
