//! The `svcc` command.

use std::process::ExitCode;

use clap::Parser as _;

#[allow(clippy::disallowed_methods)]
mod cli;

// A build allocates and frees millions of small token trees and strings; glibc's malloc
// spent about a quarter of a large build's time on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::run(cli::Cli::parse())
}
