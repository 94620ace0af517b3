//! The `svcc` binary end to end: exit codes, output streams, every subcommand.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use std::process::{Command, Output};

mod common;

fn svcc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(args)
        .current_dir(common::repo_root())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_examples_passes() {
    let out = svcc(&["check", "examples/"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("ok: examples/tracker/main.svc"));
}

#[test]
fn check_reports_errors_and_fails() {
    let dir = tempdir();
    let spec = dir.join("bad.svc");
    std::fs::write(&spec, "service s {\n  databases = [sqlite]\n  database_url = env(\"DATABASE_URL\")\n}\nentity A {\n  x: strng\n}\n").unwrap();
    let out = svcc(&["check", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("E102")
            && err.contains("unknown type `strng`")
            && err.contains("did you mean `string`?"),
        "{err}"
    );
}

#[test]
fn missing_file_is_a_clean_error() {
    let out = svcc(&["check", "does/not/exist.svc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

#[test]
fn explain_knows_every_code() {
    for code in svcc::diagnostics::ERROR_CODES {
        let out = svcc(&["explain", code.code.0]);
        assert!(out.status.success(), "explain {}", code.code);
        assert!(String::from_utf8_lossy(&out.stdout).contains(code.title));
    }
    assert!(!svcc(&["explain", "E999"]).status.success());
}

#[test]
fn fmt_check_accepts_examples_and_rejects_unformatted() {
    let out = svcc(&["fmt", "--check", "examples/", "stdlib/"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = tempdir();
    let spec = dir.join("ugly.svc");
    std::fs::write(&spec, "enum E{a b}\n").unwrap();
    assert_eq!(
        svcc(&["fmt", "--check", spec.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
    assert!(svcc(&["fmt", spec.to_str().unwrap()]).status.success());
    assert_eq!(
        std::fs::read_to_string(&spec).unwrap(),
        "enum E {\n  a\n  b\n}\n"
    );
}

#[test]
fn graph_formats() {
    for (format, marker) in [
        ("dot", "digraph"),
        ("mermaid", "erDiagram"),
        ("ir", "migration order:"),
    ] {
        let out = svcc(&["graph", "examples/shop.svc", "--format", format]);
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(marker),
            "{format}"
        );
    }
}

#[test]
fn std_lists_and_prints_modules() {
    let out = svcc(&["std"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "std.mixins\nstd.policies\nstd.types\n"
    );
    let out = svcc(&["std", "mixins"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("mixin timestamps"));
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "svcc-cli-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn build_keeps_hand_written_files_and_warns_about_what_it_cannot_generate() {
    let out = tempdir().join("shop-user-files");
    let _ = std::fs::remove_dir_all(&out);
    let target = out.to_str().unwrap();
    let first = svcc(&["build", "examples/shop.svc", "-o", target]);
    assert!(first.status.success(), "{}", stderr(&first));
    let handler = out.join("src/handlers/orders.rs");
    let seed = std::fs::read_to_string(&handler).unwrap();
    assert!(
        seed.contains("NotImplemented"),
        "the skeleton answers 501: {seed}"
    );
    let edited = seed.replace(
        "Err(AppError::NotImplemented(\"orders.checkout is not implemented yet\"))",
        "Ok(_order)",
    );
    assert_ne!(edited, seed);
    std::fs::write(&handler, &edited).unwrap();
    let again = svcc(&["build", "examples/shop.svc", "-o", target]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(std::fs::read_to_string(&handler).unwrap(), edited);
    assert!(
        stderr(&again).contains("is up to date"),
        "{}",
        stderr(&again)
    );
    let check = svcc(&["build", "--check", "examples/shop.svc", "-o", target]);
    assert!(
        check.status.success(),
        "a hand-written file is not drift: {}",
        stderr(&check)
    );
    // A deleted skeleton is written again; nothing else changes.
    std::fs::remove_file(&handler).unwrap();
    let restored = svcc(&["build", "examples/shop.svc", "-o", target]);
    assert_eq!(std::fs::read_to_string(&handler).unwrap(), seed);
    assert!(stderr(&restored).contains("src/handlers/orders.rs"));

    // A spec with a construct svcc does not generate builds, warns W002, answers 501.
    let spec = tempdir().join("singleton_list.svc");
    let text = std::fs::read_to_string(common::repo_root().join("examples/blog.svc"))
        .unwrap()
        .replace(
            "  update {\n    auth    = owner(id)",
            "  list everyone \"/everyone\" {\n    auth     = authenticated\n    page     = 10\n    max_page = 10\n  }\n\n  update {\n    auth    = owner(id)",
        );
    std::fs::write(&spec, text).unwrap();
    let warned = svcc(&[
        "build",
        spec.to_str().unwrap(),
        "-o",
        tempdir().join("singleton-list-out").to_str().unwrap(),
    ]);
    assert!(warned.status.success(), "{}", stderr(&warned));
    assert!(stderr(&warned).contains("W002"), "{}", stderr(&warned));
}

#[test]
fn a_rebuild_after_a_spec_edit_matches_a_fresh_build_and_restores_edited_modules() {
    let (dir, spec, text) = shop_copy("edit-rebuild");
    std::fs::write(&spec, &text).unwrap();
    let out = dir.join("out");
    let build = |into: &std::path::Path| {
        let built = svcc(&[
            "build",
            spec.to_str().unwrap(),
            "-o",
            into.to_str().unwrap(),
        ]);
        assert!(built.status.success(), "{}", stderr(&built));
        stderr(&built)
    };
    build(&out);
    let stamp = std::fs::read_to_string(out.join(".svcc/stamp")).unwrap();
    assert!(
        stamp
            .lines()
            .any(|l| l.contains(':') && l.ends_with(" src/repo/users.rs")),
        "modules are stamped with the fingerprint of their tokens: {stamp}"
    );

    // A generated module the spec edit does not touch, edited by hand.
    let untouched = out.join("src/repo/users.rs");
    let printed = std::fs::read_to_string(&untouched).unwrap();
    std::fs::write(&untouched, format!("{printed}// edited\n")).unwrap();
    let edited = text.replace(
        "  slug: Slug @unique\n",
        "  slug: Slug @unique\n  note: text(..200)?\n",
    );
    assert_ne!(edited, text);
    std::fs::write(&spec, &edited).unwrap();
    let wrote = build(&out);
    assert!(wrote.contains("src/repo/categories.rs"), "{wrote}");
    assert!(wrote.contains("src/repo/users.rs"), "restored: {wrote}");
    assert!(!wrote.contains("src/repo/orders.rs"), "{wrote}");
    assert_eq!(std::fs::read_to_string(&untouched).unwrap(), printed);

    // Everything but the migrations (a new one here, an initial one there) is what a
    // fresh build of the edited spec writes.
    let fresh = dir.join("fresh");
    build(&fresh);
    for built in [&out, &fresh] {
        let temporary: Vec<_> = (tree(built).into_iter())
            .map(|(path, _)| path)
            .filter(|path| path.to_string_lossy().ends_with(".svcc-tmp"))
            .collect();
        assert!(temporary.is_empty(), "left behind: {temporary:?}");
    }
    for top in ["src", "tests", "docs"] {
        for (path, contents) in tree(&fresh.join(top)) {
            let relative = path.strip_prefix(&fresh).unwrap();
            assert_eq!(
                std::fs::read(out.join(relative)).ok(),
                Some(contents),
                "{}",
                relative.display()
            );
        }
    }
}

/// An empty scratch directory named `label` and the path of a spec in it, with the text
/// of the shop example to write there.
fn shop_copy(label: &str) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let dir = tempdir().join(label);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(common::repo_root().join("examples/shop.svc")).unwrap();
    (dir.clone(), dir.join("shop.svc"), text)
}

/// Every file under `dir` with its contents, in path order.
fn tree(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files.sort();
    files
}

#[test]
fn a_refused_migration_writes_nothing() {
    let (dir, spec, text) = shop_copy("refused-migration");
    let with_note = text.replace(
        "  slug: Slug @unique\n",
        "  slug: Slug @unique\n  note: text(..200)?\n",
    );
    assert_ne!(with_note, text);
    std::fs::write(&spec, &with_note).unwrap();
    let out = dir.join("out");
    let build = || svcc(&["build", spec.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let first = build();
    assert!(first.status.success(), "{}", stderr(&first));
    let before = tree(&out);

    // Dropping the column loses data: without an acknowledgement, the build is refused.
    std::fs::write(&spec, &text).unwrap();
    let refused = build();
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.contains("E201") && err.contains("nothing written"),
        "{err}"
    );
    assert!(tree(&out) == before, "the output directory changed");
}

#[test]
fn init_writes_a_clean_starter_once_and_never_overwrites() {
    let dir = tempdir();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_svcc"))
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let out = run(&["init", "my-notes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let spec = dir.join("my-notes/main.svc");
    let text = std::fs::read_to_string(&spec).unwrap();
    assert!(text.contains("service my_notes {"), "{text}");
    let out = run(&["check", "my-notes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let out = run(&["fmt", "--check", "my-notes"]);
    assert!(
        out.status.success(),
        "the starter is canonically formatted: {}",
        stderr(&out)
    );

    std::fs::write(&spec, "// mine\n").unwrap();
    let out = run(&["init", "my-notes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("never writes over files"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), "// mine\n");

    let out = run(&["init", "Bad Name"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot name a service"),
        "{}",
        stderr(&out)
    );
}
