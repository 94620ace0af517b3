//! The `svcc` command.

use std::process::ExitCode;

use clap::Parser as _;

mod cli;

fn main() -> ExitCode {
    cli::run(cli::Cli::parse())
}
