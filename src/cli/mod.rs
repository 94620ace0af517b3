//! The command line: argument parsing and the only code that reads and writes files.

mod build;
mod fmt;
mod init;
mod run;
mod stamp;

use std::io::{self, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use svcc::check::{RULES, find_rule, rules_markdown};
use svcc::diagnostics::{ERROR_CODES, Renderer, explain_error};
use svcc::load::{FileSystem, STDLIB};
use svcc::{Compilation, compile};

#[derive(Debug, Parser)]
#[command(
    name = "svcc",
    version,
    about = "Compile .svc service specs into production-grade backends"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check specs: syntax, names, types and relations. Exits non-zero on any error.
    Check {
        /// Spec files, or directories of specs (a directory with a `main.svc` is one spec).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Check a spec and write what it lowers to (SQL migrations for each database target,
    /// and their schema snapshot) into a directory.
    Build {
        spec: PathBuf,
        /// The output directory.
        #[arg(short, long)]
        out: PathBuf,
        /// Write nothing; print a diff and fail if the directory differs from what the spec produces.
        #[arg(long)]
        check: bool,
    },
    /// Build a spec's service, compile it with cargo and start it on its embedded SQLite
    /// default (no database server needed).
    Run {
        spec: PathBuf,
        /// Compile without optimisations: faster to build, slower to run.
        #[arg(long)]
        debug: bool,
    },
    /// Write a commented starter spec, `<name>/main.svc`, that passes every readiness rule.
    Init {
        /// The directory to create and the service's name (`my-app` becomes `my_app`).
        name: String,
    },
    /// Print the entity graph of a spec.
    Graph {
        spec: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Format `.svc` files in the canonical style.
    Fmt {
        /// Files or directories to format.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Report files that are not formatted instead of rewriting them.
        #[arg(long)]
        check: bool,
    },
    /// Explain a diagnostic code or rule, e.g. `svcc explain E102` or `svcc explain SVC101`.
    Explain { code: String },
    /// List the readiness rules.
    Rules {
        /// Print the rules' full documentation as Markdown (the "Readiness rules" section of spec.md).
        #[arg(long)]
        markdown: bool,
    },
    /// List the standard library modules, or print one.
    Std { module: Option<String> },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
    /// The full resolved IR as text.
    Ir,
}

/// Reads spec files from disk.
struct DiskFs;

impl FileSystem for DiskFs {
    fn read(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }
}

pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Check { paths } => check(&paths),
        Command::Build { spec, out, check } => build::run(&spec, &out, check),
        Command::Run { spec, debug } => run::run(&spec, !debug),
        Command::Init { name } => init::run(&name),
        Command::Graph { spec, format } => graph(&spec, format),
        Command::Fmt { paths, check } => fmt::run(&paths, check),
        Command::Explain { code } => explain(&code),
        Command::Rules { markdown } => rules(markdown),
        Command::Std { module } => stdlib(module.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn renderer() -> Renderer {
    Renderer::new(io::stderr().is_terminal())
}

/// Compiles one spec (a `.svc` file, or a directory with a `main.svc`) and prints its
/// diagnostics; `None` when it has errors.
/// The root file of a spec: the file itself, or `main.svc` of a spec directory.
fn spec_root(spec: &Path) -> PathBuf {
    let main = spec.join("main.svc");
    if spec.is_dir() && main.is_file() {
        main
    } else {
        spec.to_path_buf()
    }
}

/// Compiles a spec without printing anything.
fn compile_quietly(spec: &Path) -> io::Result<Compilation> {
    let spec = spec_root(spec);
    compile(&spec, &DiskFs)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", spec.display())))
}

fn compile_reporting(spec: &Path) -> io::Result<Option<Compilation>> {
    let compilation = compile_quietly(spec)?;
    if !compilation.diagnostics.is_empty() {
        eprint!(
            "{}",
            renderer().render_all(&compilation.sources, &compilation.diagnostics)
        );
    }
    Ok((!compilation.has_errors()).then_some(compilation))
}

fn check(paths: &[PathBuf]) -> io::Result<ExitCode> {
    let mut failed = 0;
    let specs = find_specs(paths)?;
    for spec in &specs {
        match compile_reporting(spec)? {
            Some(_) => eprintln!("ok: {}", spec.display()),
            None => failed += 1,
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} spec(s) failed", specs.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// A file is a spec; a directory with `main.svc` is one spec; any other directory holds
/// specs as top-level `.svc` files and subdirectories with a `main.svc`.
pub(crate) fn find_specs(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut specs = Vec::new();
    for path in paths {
        if !path.is_dir() {
            specs.push(path.clone());
            continue;
        }
        let main = path.join("main.svc");
        if main.is_file() {
            specs.push(main);
            continue;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<_>>()?;
        entries.sort();
        for entry in entries {
            if entry.is_dir() && entry.join("main.svc").is_file() {
                specs.push(entry.join("main.svc"));
            } else if entry.extension().is_some_and(|x| x == "svc") {
                specs.push(entry);
            }
        }
    }
    if specs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "no .svc specs found",
        ));
    }
    Ok(specs)
}

fn graph(spec: &Path, format: GraphFormat) -> io::Result<ExitCode> {
    let Some(c) = compile_reporting(spec)? else {
        return Ok(ExitCode::FAILURE);
    };
    let text = match format {
        GraphFormat::Dot => svcc::ir::to_dot(&c.ir),
        GraphFormat::Mermaid => svcc::ir::to_mermaid(&c.ir),
        GraphFormat::Ir => svcc::ir::dump(&c.ir),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn explain(code: &str) -> io::Result<ExitCode> {
    if let Some(e) = explain_error(code) {
        println!("{}: {}\n\n{}", e.code, e.title, e.explanation);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(rule) = find_rule(code) {
        println!(
            "{} ({}, {} by default): {}\n\n{}",
            rule.code,
            rule.name,
            rule.severity.as_str(),
            rule.summary,
            rule.documentation()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let last = ERROR_CODES.last().map_or("E001", |c| c.code.0);
    eprintln!(
        "error: unknown code `{code}`; `svcc rules` lists the readiness rules, error codes run from E001 to {last}"
    );
    Ok(ExitCode::FAILURE)
}

fn rules(markdown: bool) -> io::Result<ExitCode> {
    if markdown {
        print!("{}", rules_markdown());
        return Ok(ExitCode::SUCCESS);
    }
    for rule in RULES {
        println!(
            "{}  {:<28} {:<8} {}",
            rule.code,
            rule.name,
            rule.severity.as_str(),
            rule.summary
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn stdlib(module: Option<&str>) -> io::Result<ExitCode> {
    match module {
        None => {
            for (name, _) in STDLIB {
                println!("std.{name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(m) => {
            let name = m.trim_start_matches("std.");
            match STDLIB.iter().find(|(n, _)| *n == name) {
                Some((_, text)) => {
                    print!("{text}");
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("error: no standard library module `{m}`");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
