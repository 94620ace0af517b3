//! The `svcc` command.

use std::process::ExitCode;

use clap::Parser as _;

#[allow(clippy::disallowed_methods)]
mod cli;

// The only unsafe code in svcc: four calls into mimalloc.
#[allow(unsafe_code)]
mod alloc;

#[global_allocator]
static ALLOCATOR: alloc::MiMalloc = alloc::MiMalloc;

fn main() -> ExitCode {
    cli::run(cli::Cli::parse())
}
