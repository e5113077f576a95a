//! `ratcatcher` command line: argument parsing and dispatch to the subcommands.

mod alerts_out;
mod check;
mod convert;
mod evidence;
mod exit;
mod explain;
mod export;
mod hunt;
mod ingest;
mod output;
mod query;
mod render;
mod report_html;
mod ruletest;
mod sources;
mod term;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ratcatcher",
    version,
    about = "Hunt remote access tools (MITRE ATT&CK T1219) in local telemetry with KQL and Sigma",
    after_help = exit::HELP
)]
struct Cli {
    /// When to colour human output: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = term::ColorChoice::Auto)]
    color: term::ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse KQL queries and report syntax errors (.kql files, folders, Sentinel rule YAML);
    /// with --schema, also check their tables, columns and functions against table schemas.
    #[command(after_help = exit::HELP_CHECK)]
    Check {
        /// Files or folders. Folders are searched recursively for .kql, .csl, .yaml and .yml files.
        #[arg(required_unless_present = "print_schemas")]
        paths: Vec<PathBuf>,
        /// Output format: `text` (diagnostics with source excerpts) or `jsonl` (one object per query).
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
        /// Only print the failures and the summary line (text format).
        #[arg(long, short)]
        quiet: bool,
        /// Validate Sentinel analytic-rule templates (YAML files, folders) as the Azure-Sentinel
        /// repository does: required fields, tactics and techniques, periods, entity mappings, ...
        #[arg(long)]
        sentinel: bool,
        /// Check the queries against table schemas: unknown tables, columns and functions and
        /// type errors, without data. Queries over tables the schemas do not have are reported
        /// as not checked.
        #[arg(long)]
        schema: bool,
        /// A folder of table schemas (JSON, the Azure-Sentinel custom-table shape
        /// `{"Name": ..., "Properties": [{"Name": ..., "Type": ...}]}`) used with --schema
        /// (repeatable; they replace shipped tables of the same name).
        #[arg(long = "schema-dir", value_name = "DIR")]
        schema_dirs: Vec<PathBuf>,
        /// With --schema: count queries over unknown tables or functions as errors.
        #[arg(long)]
        strict: bool,
        /// Print the table schemas --schema checks against (JSON) and exit.
        #[arg(long)]
        print_schemas: bool,
        /// With --schema --format jsonl: put each query's text in its record.
        #[arg(long)]
        with_query: bool,
    },
    /// Run a KQL query over evidence (EVTX, Defender/Sentinel exports, ingested datasets) or tables.
    ///
    /// `ratcatcher query 'QUERY' INPUTS...` or `ratcatcher query -f FILE INPUTS...`.
    #[command(after_help = exit::HELP_QUERY)]
    Query {
        /// The query text (with -f: the first input).
        query: Option<String>,
        /// Evidence files, folders or globs, or one folder written by `ingest`.
        #[arg(value_name = "INPUTS")]
        inputs: Vec<String>,
        /// Read the query from a file.
        #[arg(short = 'f', long = "file")]
        file: Option<PathBuf>,
        /// A table from a Parquet, CSV or JSON-lines file: NAME=PATH (repeatable).
        #[arg(long = "table", value_name = "NAME=PATH")]
        tables: Vec<String>,
        /// An input (the older form of the positional INPUTS; repeatable).
        #[arg(long = "input", short = 'i', hide = true)]
        input_flags: Vec<String>,
        /// Output format (default: table on a terminal, jsonl otherwise).
        #[arg(long, value_enum)]
        format: Option<query::OutputFormat>,
        /// The query's now (RFC 3339), for ago() and now(); default: the newest event of the bulk
        /// of the evidence (outliers aside), the wall clock without timed rows.
        #[arg(long)]
        now: Option<String>,
        /// Only rows in (now - this, now] (e.g. 7d), by each table's Timestamp/TimeGenerated;
        /// default: all rows.
        #[arg(long)]
        lookback: Option<String>,
        /// Memory limit for running the query (e.g. 2G; default: half the machine's memory);
        /// operators spill to disk where they can.
        #[arg(long)]
        memory_limit: Option<String>,
        /// Folders the query may read files from (`externaldata`), besides the evidence and
        /// --table files (repeatable).
        #[arg(long, value_name = "DIR")]
        allow_read: Vec<PathBuf>,
        /// Exit 0 even when some evidence could not be read (it is still reported).
        #[arg(long)]
        allow_partial: bool,
    },
    /// Read evidence once and write one Parquet dataset per table, for fast later runs.
    #[command(after_help = exit::HELP_INGEST)]
    Ingest {
        /// Evidence files, folders or globs.
        #[arg(required = true)]
        inputs: Vec<String>,
        /// Output folder (`--out` is accepted too).
        #[arg(long = "output", short = 'o', visible_alias = "out", value_name = "DIR")]
        out: PathBuf,
        /// Replace a dataset already in the output folder.
        #[arg(long)]
        overwrite: bool,
        /// Exit 0 even when some evidence could not be read (it is still reported).
        #[arg(long)]
        allow_partial: bool,
    },
    /// List the tables evidence holds, with row counts and time ranges.
    #[command(after_help = exit::HELP_INGEST)]
    Tables {
        /// Evidence files, folders or globs, or one folder written by `ingest`.
        #[arg(required = true)]
        inputs: Vec<String>,
        /// Exit 0 even when some evidence could not be read (it is still reported).
        #[arg(long)]
        allow_partial: bool,
    },
    /// Hunt remote access tools: run the T1219 pack (or --rules) over evidence and report alerts.
    #[command(after_help = exit::HELP_HUNT)]
    Hunt(hunt::HuntArgs),
    /// Run the detection pack's tests (evidence + expected alerts); ends with `N passed, M failed`.
    #[command(after_help = exit::HELP_TEST)]
    Test {
        /// Rule ids (run the tests that expect them) or test files / folders (default: rules/tests).
        items: Vec<String>,
        /// Rules to test instead of the built-in pack (files or folders).
        #[arg(long)]
        rules: Vec<PathBuf>,
        /// Folder of test cases (default: `tests` under --rules, else rules/tests).
        #[arg(long)]
        tests: Option<PathBuf>,
        /// Also list rules without a passing test.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Show a rule's investigation guide, response playbook and query.
    #[command(after_help = exit::HELP_EXPLAIN)]
    Explain {
        /// Rule id (file stem), Sentinel id or name.
        rule: String,
        /// Look the rule up in these rules instead of the built-in pack.
        #[arg(long)]
        rules: Vec<PathBuf>,
    },
    /// Convert rules: Sigma to KQL (`--to kql RULE.yml...`), pack rules to Sigma (`--to sigma RULE...`).
    #[command(after_help = exit::HELP_CONVERT)]
    Convert {
        /// Target language.
        #[arg(long, value_enum)]
        to: convert::Target,
        /// Sigma files or folders (--to kql); pack rule files, folders or built-in rule ids (--to sigma).
        #[arg(required = true)]
        rules: Vec<String>,
        /// --to kql: the tables to query.
        #[arg(long, value_enum, default_value_t = convert::TableSetArg::Defender)]
        table_set: convert::TableSetArg,
        /// --to kql: also plan every converted query in the engine (empty tables) and report failures.
        #[arg(long)]
        plan: bool,
        /// Write the output to this file instead of stdout (`--out` is accepted too).
        #[arg(long, short, visible_alias = "out")]
        output: Option<PathBuf>,
    },
    /// Export the pack to other SIEMs: as Sigma rules (`--to sigma`), and through pySigma's
    /// backends (sigma-cli's Python environment) as Splunk, Elastic, QRadar, SecOps,
    /// CrowdStrike, SentinelOne or KQL queries, one file per rule, with the catalog as a lookup CSV.
    #[command(after_help = exit::HELP_EXPORT)]
    Export {
        /// Targets (repeatable or comma-separated): sigma, splunk, elastic-esql, elastic-lucene,
        /// qradar, secops, crowdstrike, sentinelone, kql, sqlite.
        #[arg(long, required = true, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(export::TARGETS))]
        to: Vec<String>,
        /// Output folder (needed for SIEM targets). `--to sigma` without it writes the rules to
        /// stdout as one YAML stream.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// The Python interpreter of the environment pySigma and its backends are installed in
        /// (default: the one of `sigma` on PATH).
        #[arg(long)]
        python: Option<PathBuf>,
    },
    /// List or search the remote-access-tool catalog (ids, names, executables, domains, categories).
    #[command(after_help = exit::HELP_CATALOG)]
    Catalog {
        /// Search term (id, name, alias, category, executable or domain; case-insensitive).
        term: Option<String>,
        #[arg(long, value_enum, default_value_t = explain::CatalogFormat::Table)]
        format: explain::CatalogFormat,
        /// One row per indicator (with --format csv: a Sentinel watchlist).
        #[arg(long)]
        indicators: bool,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    Text,
    Jsonl,
}

/// Stack of the thread that parses, plans and optimises queries. Planning and DataFusion's
/// optimiser recurse over the plan; a rule with thousands of operators needs more than the
/// default 8 MiB (only the pages touched are used).
const STACK_BYTES: usize = 512 << 20;
/// Stack of the runtime's workers, which run the plans (nested streams).
const WORKER_STACK_BYTES: usize = 64 << 20;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let worker = std::thread::Builder::new()
        .name("ratcatcher".into())
        .stack_size(STACK_BYTES)
        .spawn(move || run(cli));
    match worker.map(std::thread::JoinHandle::join) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: starting: {e}");
            ExitCode::from(2)
        }
    }
}

/// A multi-threaded runtime whose workers have [`WORKER_STACK_BYTES`] of stack.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK_BYTES)
        .build()
}

fn run(cli: Cli) -> ExitCode {
    term::set_color_choice(cli.color);
    match cli.command {
        Command::Check {
            paths,
            format,
            quiet,
            sentinel,
            schema,
            schema_dirs,
            strict,
            print_schemas,
            with_query,
        } => {
            if print_schemas || schema || !schema_dirs.is_empty() {
                let opts = check::SchemaOptions {
                    dirs: schema_dirs,
                    strict,
                    with_query,
                };
                if print_schemas {
                    check::print_schemas(&opts)
                } else {
                    check::run_schema(&paths, format, quiet, &opts)
                }
            } else if sentinel {
                check::run_sentinel(&paths, format, quiet)
            } else {
                check::run(&paths, format, quiet)
            }
        }
        Command::Query {
            mut query,
            mut inputs,
            file,
            tables,
            input_flags,
            format,
            now,
            lookback,
            memory_limit,
            allow_read,
            allow_partial,
        } => {
            // With -f every positional is an input; `-i` inputs come first, as before.
            if file.is_some()
                && let Some(q) = query.take()
            {
                inputs.insert(0, q);
            }
            inputs.splice(0..0, input_flags);
            block_on(query::run(query::QueryArgs {
                query,
                file,
                tables,
                inputs,
                format,
                now,
                lookback,
                memory_limit,
                allow_read,
                allow_partial,
            }))
        }
        Command::Ingest {
            inputs,
            out,
            overwrite,
            allow_partial,
        } => ingest::ingest(&inputs, &out, overwrite, allow_partial),
        Command::Tables { inputs, allow_partial } => ingest::tables(&inputs, allow_partial),
        Command::Hunt(args) => block_on(hunt::run(args)),
        Command::Test {
            items,
            rules,
            tests,
            verbose,
        } => block_on(ruletest::run(ruletest::TestArgs {
            items,
            rules,
            tests,
            verbose,
        })),
        Command::Export { to, out, python } => export::run(export::ExportArgs { to, out, python }),
        Command::Convert {
            to,
            rules,
            table_set,
            plan,
            output,
        } => block_on(convert::run(convert::ConvertArgs {
            to,
            items: rules,
            table_set,
            plan,
            output,
        })),
        Command::Explain { rule, rules } => explain::explain(&rule, &rules),
        Command::Catalog {
            term,
            format,
            indicators,
        } => explain::catalog(term.as_deref(), format, indicators),
    }
}

/// Runs a command's future on a multi-threaded runtime.
fn block_on(f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match runtime() {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            ExitCode::from(2)
        }
    }
}
