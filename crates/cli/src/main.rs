//! `ratcatcher` command line: argument parsing and dispatch to the subcommands.

mod check;
mod evidence;
mod ingest;
mod query;
mod render;
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
    /// Run a KQL query over evidence (EVTX, Defender/Sentinel exports, ingested datasets) or tables.
    ///
    /// Exit code: 0 when the query ran, 2 when it could not be read, planned or run.
    Query {
        /// The query text (or use -f).
        query: Option<String>,
        /// Read the query from a file.
        #[arg(short = 'f', long = "file")]
        file: Option<PathBuf>,
        /// A table from a Parquet, CSV or JSON-lines file: NAME=PATH (repeatable).
        #[arg(long = "table", value_name = "NAME=PATH")]
        tables: Vec<String>,
        /// Evidence files, folders or globs, or one folder written by `ingest`.
        #[arg(long = "input", short = 'i')]
        inputs: Vec<String>,
        /// Output format (default: table on a terminal, jsonl otherwise).
        #[arg(long, value_enum)]
        format: Option<query::OutputFormat>,
        /// The query's now (RFC 3339), for ago() and now(); the wall clock by default.
        #[arg(long)]
        now: Option<String>,
        /// Only rows newer than now minus this (e.g. 7d), by each table's Timestamp/TimeGenerated.
        #[arg(long)]
        lookback: Option<String>,
        /// Memory limit for running the query (e.g. 2G); operators spill to disk where they can.
        #[arg(long)]
        memory_limit: Option<String>,
    },
    /// Read evidence once and write one Parquet dataset per table, for fast later runs.
    ///
    /// Exit code: 0 everything read, 1 some records or files were skipped (reported; the rest was written), 2 error.
    Ingest {
        /// Evidence files, folders or globs.
        #[arg(required = true)]
        inputs: Vec<String>,
        /// Output folder.
        #[arg(long, short)]
        out: PathBuf,
        /// Replace a dataset already in the output folder.
        #[arg(long)]
        overwrite: bool,
    },
    /// List the tables evidence holds, with row counts and time ranges.
    Tables {
        #[arg(required = true)]
        inputs: Vec<String>,
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
        Command::Query {
            query,
            file,
            tables,
            inputs,
            format,
            now,
            lookback,
            memory_limit,
        } => {
            let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: starting the runtime: {e}");
                    return ExitCode::from(2);
                }
            };
            rt.block_on(query::run(query::QueryArgs {
                query,
                file,
                tables,
                inputs,
                format,
                now,
                lookback,
                memory_limit,
            }))
        }
        Command::Ingest { inputs, out, overwrite } => ingest::ingest(&inputs, &out, overwrite),
        Command::Tables { inputs } => ingest::tables(&inputs),
    }
}
