//! The `svcc` command.

use std::process::ExitCode;

use clap::Parser as _;

#[allow(clippy::disallowed_methods)]
mod cli;

fn main() -> ExitCode {
    cli::run(cli::Cli::parse())
}
