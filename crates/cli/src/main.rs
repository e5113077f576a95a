//! `ratcatcher` command line: argument parsing and dispatch to the subcommands.

mod check;
mod sources;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ratcatcher",
    version,
    about = "Hunt remote access tools (MITRE ATT&CK T1219) in local telemetry with KQL and Sigma"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse KQL queries and report syntax errors (.kql files, folders, Sentinel rule YAML).
    ///
    /// Exit code: 0 when everything parsed, 1 when a query failed, 2 when an input could not be read.
    Check {
        /// Files or folders. Folders are searched recursively for .kql, .csl, .yaml and .yml files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format: `text` (diagnostics with source excerpts) or `jsonl` (one object per query).
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
        /// Only print the failures and the summary line (text format).
        #[arg(long, short)]
        quiet: bool,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    Text,
    Jsonl,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths, format, quiet } => check::run(&paths, format, quiet),
    }
}
