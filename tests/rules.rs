//! Readiness rules: the registry's invariants, the documentation examples (docs are tests),
//! one fixture folder per rule, and the generated section of spec.md.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

mod common;

use common::*;
use svcc::check::{RULES, Rule, rules_markdown};
use svcc::load::MemoryFs;

/// What a documentation example that has no `service` block is compiled with: a service,
/// the stdlib, an identity entity with roles and rate limits, so examples stay short.
const PREAMBLE: &str = r#"service doc {
  version      = "1.0.0"
  databases    = [postgres]
  database_url = env("DATABASE_URL")
  default_rate = reads
}
use std.types
use std.mixins
auth {
  identity = Account
  login    = email
  password = password
  roles    = role
  secret   = env("JWT_SECRET")
  rate     = logins
}
rate reads {
  limit  = 100
  window = 1m
  key    = ip
}
rate logins {
  limit  = 10
  window = 1m
  key    = ip
}
enum AccountRole {
  member
  admin
}
entity Account {
  include uuid_id
  email:    Email @unique
  password: password
  role:     AccountRole @default(member) @readonly
  include timestamps
}
"#;

fn codes_found(text: &str) -> (Vec<String>, String) {
    let c = svcc::compile_text("example.svc", text, &MemoryFs::default());
    let rendered = svcc::diagnostics::render_plain(&c.sources, &c.diagnostics);
    (
        c.diagnostics.iter().map(|d| d.code.0.to_string()).collect(),
        rendered,
    )
}

/// The ```svc blocks of a rule's doc: (example, use-instead).
fn doc_examples(rule: &Rule) -> (String, String) {
    let doc = rule.documentation();
    let blocks: Vec<String> = doc
        .split("```svc\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        blocks.len(),
        2,
        "{}: the doc needs exactly two ```svc blocks (Example, Use instead)",
        rule.code
    );
    let with_preamble = |b: &str| {
        if b.contains("service ") {
            b.to_string()
        } else {
            format!("{PREAMBLE}{b}")
        }
    };
    (with_preamble(&blocks[0]), with_preamble(&blocks[1]))
}

#[test]
fn registry_is_sorted_unique_and_documented() {
    let codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(codes, sorted, "rule codes must be unique and sorted");
    let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), RULES.len(), "rule names must be unique");
    for rule in RULES {
        assert!(
            rule.code.starts_with("SVC") && rule.code.len() == 6,
            "{}: codes are SVCnnn",
            rule.code
        );
        assert!(
            rule.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-'),
            "{}: names are kebab-case",
            rule.name
        );
        for prefix in ["no-", "require-", "missing-check"] {
            assert!(
                !rule.name.starts_with(prefix),
                "{}: name the pattern flagged, not the fix",
                rule.name
            );
        }
        let doc = rule.documentation();
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "Use instead:",
        ] {
            assert!(
                doc.contains(section),
                "{}: doc lacks `{section}`",
                rule.code
            );
        }
    }
}

#[test]
fn doc_examples_trigger_and_fixes_do_not() {
    for rule in RULES {
        let (bad, good) = doc_examples(rule);
        let (found, rendered) = codes_found(&bad);
        assert!(
            found.iter().any(|c| c == rule.code),
            "{}: the Example does not trigger the rule:\n{rendered}",
            rule.code
        );
        let front_end_errors: Vec<&String> = found.iter().filter(|c| c.starts_with('E')).collect();
        assert!(
            front_end_errors.is_empty(),
            "{}: the Example has front-end errors:\n{rendered}",
            rule.code
        );
        let (found, rendered) = codes_found(&good);
        assert!(
            !found.iter().any(|c| c == rule.code),
            "{}: the `Use instead` example still triggers the rule:\n{rendered}",
            rule.code
        );
        assert!(
            !found.iter().any(|c| c.starts_with('E')),
            "{}: the `Use instead` example has front-end errors:\n{rendered}",
            rule.code
        );
    }
}

#[test]
fn every_rule_has_fixtures_that_behave() {
    let root = repo_root().join("tests/fixtures/rules");
    for rule in RULES {
        let dir = root.join(rule.code);
        for case in ["bad", "good", "allowed"] {
            let path = dir.join(format!("{case}.svc"));
            assert!(
                path.is_file(),
                "{} needs tests/fixtures/rules/{}/{case}.svc",
                rule.code,
                rule.code
            );
            let c = compile(&path);
            let rendered = svcc::diagnostics::render_plain(&c.sources, &c.diagnostics);
            let hits = c
                .diagnostics
                .iter()
                .filter(|d| d.code.0 == rule.code)
                .count();
            match case {
                "bad" => assert!(
                    hits > 0,
                    "{}/bad.svc does not trigger the rule:\n{rendered}",
                    rule.code
                ),
                "good" => assert!(
                    c.diagnostics.is_empty(),
                    "{}/good.svc is not clean:\n{rendered}",
                    rule.code
                ),
                _ => assert!(
                    hits == 0 && !c.has_errors() || rule.code == "SVC001" || rule.code == "SVC002",
                    "{}/allowed.svc: the suppression is not honoured:\n{rendered}",
                    rule.code
                ),
            }
            if case != "good" {
                let text = format!(
                    "----- SOURCE\n{}\n----- DIAGNOSTICS\n{rendered}",
                    sources_text(&c)
                );
                insta::assert_snapshot!(format!("rule__{}__{case}", rule.code), text);
            }
        }
    }
}

#[test]
fn spec_md_rules_section_is_generated_from_the_registry() {
    let path = repo_root().join("spec.md");
    let spec = std::fs::read_to_string(&path).unwrap();
    let start = spec
        .find("## Readiness rules")
        .expect("spec.md has a `## Readiness rules` section");
    let end = spec[start + 1..]
        .find("\n## ")
        .map_or(spec.len(), |i| start + 1 + i + 1);
    let expected = rules_markdown();
    if spec[start..end] != expected {
        let updated = format!("{}{}{}", &spec[..start], expected, &spec[end..]);
        std::fs::write(&path, updated).unwrap();
        panic!(
            "spec.md's Readiness rules section was out of date and has been regenerated; review and commit it"
        );
    }
}

#[test]
fn explain_covers_every_rule() {
    for rule in RULES {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_svcc"))
            .args(["explain", rule.code])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(rule.name) && text.contains("## Why is this bad?"),
            "{}",
            rule.code
        );
    }
}

/// A list whose whole rule is `owner(author)` always filters by the author, so an index
/// led by the author serves its filters and sort; once admins may list every row, it no
/// longer does.
#[test]
fn owner_scoped_lists_count_the_owner_as_an_equality_filter() {
    let spec = |rule: &str| {
        format!(
            r#"service notes {{
  version      = "1.0.0"
  databases    = [postgres]
  database_url = env("DATABASE_URL")
}}

use std.types
use std.mixins

auth {{
  identity = User
  login    = email
  password = password
  roles    = role
  secret   = env("JWT_SECRET")
  rate     = sign_in
}}

rate sign_in {{
  limit  = 10
  window = 1m
  key    = ip
}}

enum Role {{
  member
  admin
}}

entity User {{
  include uuid_id
  email:    Email @unique
  password: password
  role:     Role @default(member) @readonly
  include timestamps
}}

entity Note {{
  include uuid_id
  author: ref User @on_delete(cascade)
  pinned: bool @default(false)
  include timestamps
  index (author, pinned, created_at)
  index (author, created_at)
}}

resource notes: Note at "/notes" {{
  list {{
    auth = {rule}
    filter {{
      pinned = pinned
    }}
    sort     = [created_at]
    page     = 20
    max_page = 100
  }}
}}
"#
        )
    };
    let (found, rendered) = codes_found(&spec("owner(author)"));
    assert!(!found.contains(&"SVC103".to_string()), "{rendered}");
    let (found, rendered) = codes_found(&spec("owner(author) or role(admin)"));
    assert_eq!(
        found.iter().filter(|c| *c == "SVC103").count(),
        2,
        "the filter and the sort are unindexed for admins:\n{rendered}"
    );
}
