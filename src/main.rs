//! The `svcc` command.

use std::process::ExitCode;

use clap::Parser as _;

#[allow(clippy::disallowed_methods)]
mod cli;

// A build allocates and frees millions of small token trees and strings; glibc's malloc
// spent about a quarter of a large build's time on them. mimalloc's v2 line without
// transparent huge pages (Cargo.toml): v3, and huge pages, left the kernel zeroing 2 MiB
// pages the build barely used, a quarter of a 100-entity build's samples on this VM.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::run(cli::Cli::parse())
}
