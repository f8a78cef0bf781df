//! The `miroir` command line: `check`, `serve`, and the authoring tools.

mod check;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "miroir", version, about = "Sites miroir: rehearse French online procedures with fictitious personas")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check scenario files: syntax, references, expressions, walkthroughs.
    Check {
        /// Scenario folders or files (default: the bundled scenarios).
        paths: Vec<PathBuf>,
        /// Themes folder (default: the bundled themes).
        #[arg(long)]
        themes: Option<PathBuf>,
    },
}

/// Runs the command line; the process exit code is the result.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths, themes } => check::run(&paths, themes.as_deref()),
    }
}
