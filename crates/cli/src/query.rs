//! `ratcatcher query`: runs a KQL query over evidence and prints the rows (table, JSON lines, JSON, CSV).

use crate::evidence;
use crate::exit::{Status, Stop};
use crate::render;
use engine::{Engine, EngineOptions, QueryError, format};
use futures::StreamExt;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Jsonl,
    Json,
    Csv,
}

pub struct QueryArgs {
    pub query: Option<String>,
    pub file: Option<PathBuf>,
    pub tables: Vec<String>,
    pub inputs: Vec<String>,
    pub format: Option<OutputFormat>,
    pub now: Option<String>,
    pub lookback: Option<String>,
    pub memory_limit: Option<String>,
    pub allow_read: Vec<PathBuf>,
    pub allow_partial: bool,
}

/// `7d`, `36h`, `1.5h`, `00:30:00` as nanoseconds.
pub fn parse_span(text: &str) -> Result<i64, String> {
    kql::parser::parse_timespan_text(text.trim())
        .map(|t| t * 100)
        .ok_or_else(|| format!("`{text}` is not a timespan (examples: 7d, 24h, 30m)"))
}

/// A duration flag (`--lookback`) that must be longer than zero, as nanoseconds.
pub fn positive_span(flag: &str, text: &str) -> Result<i64, String> {
    match parse_span(text) {
        Ok(n) if n > 0 => Ok(n),
        Ok(_) => Err(format!("{flag}: `{text}` is not longer than zero")),
        Err(e) => Err(format!("{flag}: {e}")),
    }
}

/// `512M`, `2G`, `1500000` as bytes.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1 << 10),
        Some((i, 'm' | 'M')) => (&t[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| *n > 0.0)
        .map(|n| (n * mult as f64) as usize)
        .ok_or_else(|| format!("`{text}` is not a size (examples: 512M, 2G)"))
}

pub fn engine_options(
    now: Option<&str>,
    lookback: Option<&str>,
    memory_limit: Option<&str>,
) -> Result<EngineOptions, String> {
    Ok(EngineOptions {
        now: now
            .map(|n| engine::value::parse_datetime(n).map_err(|e| format!("--now: {e}")))
            .transpose()?,
        lookback: lookback
            .map(parse_span)
            .transpose()
            .map_err(|e| format!("--lookback: {e}"))?,
        memory_limit: Some(match memory_limit {
            Some(m) => parse_bytes(m).map_err(|e| format!("--memory-limit: {e}"))?,
            None => engine::default_memory_limit(),
        }),
        ..EngineOptions::default()
    })
}

pub async fn run(args: QueryArgs) -> ExitCode {
    match run_inner(args).await {
        Ok(code) => code,
        Err(stop) => stop.exit(),
    }
}

async fn run_inner(args: QueryArgs) -> Result<ExitCode, Stop> {
    let (text, source_name) = match (&args.query, &args.file) {
        (Some(q), None) => (q.clone(), "<query>".to_string()),
        (None, Some(f)) => (
            std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?,
            f.display().to_string(),
        ),
        (Some(_), Some(_)) => return Err("give the query as an argument or with -f, not both".into()),
        (None, None) => return Err("no query: give it as an argument or with -f FILE".into()),
    };
    let mut options = engine_options(args.now.as_deref(), None, args.memory_limit.as_deref())?;
    let mut readable = args.inputs.clone();
    readable.extend(
        args.tables
            .iter()
            .filter_map(|t| t.split_once('='))
            .map(|(_, p)| p.to_string()),
    );
    options.file_access = detect::evidence::file_access(&readable, &args.allow_read).map_err(|e| e.to_string())?;
    let lookback = args
        .lookback
        .as_deref()
        .map(|l| positive_span("--lookback", l))
        .transpose()?;
    let mut engine = Engine::new(options).map_err(|e| e.to_string())?;
    // Held until the query has run: large evidence is read from a temporary dataset it owns.
    let loaded = if args.inputs.is_empty() {
        None
    } else {
        Some(evidence::load_evidence(&mut engine, &args.inputs).await?)
    };
    let status = Status {
        incomplete: loaded.as_ref().is_some_and(|l| !l.report.is_complete()),
        allow_partial: args.allow_partial,
        ..Status::default()
    };
    detect::catalog::register(&mut engine, &detect::catalog::builtin()).map_err(|e| e.to_string())?;
    evidence::load_named_tables(&mut engine, &args.tables).await?;
    // Like `hunt`: without --now, ago()/now() and --lookback are anchored at the newest event of the
    // bulk of the evidence (outliers reported, never the anchor); the wall clock without timed rows.
    let anchored = detect::hunt::anchor_query(&mut engine, &text, args.now.is_some(), lookback)
        .await
        .map_err(|e| format!("reading the evidence's times: {e}"))?;
    if let Some((anchor, source, profile)) = anchored {
        eprintln!("query: now() = {} ({})", detect::alert::iso(anchor), source.describe());
        for line in crate::alerts_out::TimeSummary::new(&profile, String::new()).outliers {
            eprintln!("warning: {line}");
        }
    }
    let plan = match engine.plan_with_data(&text).await {
        Ok(p) => p,
        Err(e) => {
            render::query_error(&source_name, &text, &e);
            return Ok(ExitCode::from(2));
        }
    };
    let schema = plan.schema().as_arrow().clone();
    let mut stream = match engine.execute(plan).await {
        Ok(s) => s,
        Err(e) => {
            render::query_error(&source_name, &text, &e);
            return Ok(ExitCode::from(2));
        }
    };
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        OutputFormat::Table
    } else {
        OutputFormat::Jsonl
    });
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut table_rows = Vec::new();
    let mut first_json = true;
    let io = Stop::writing;
    match format {
        OutputFormat::Csv => format::write_csv_header(&mut out, &schema).map_err(io)?,
        OutputFormat::Json => out.write_all(b"[").map_err(io)?,
        _ => {}
    }
    let mut rows = 0usize;
    // JSON lines are encoded on another thread while the query keeps producing batches.
    let mut encoder = (format == OutputFormat::Jsonl).then(JsonlEncoder::start);
    while let Some(batch) = stream.next().await {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                render::query_error(&source_name, &text, &QueryError::Execution(e.strip_backtrace()));
                return Ok(ExitCode::from(2));
            }
        };
        rows += batch.num_rows();
        match format {
            OutputFormat::Jsonl => match encoder.as_mut() {
                Some(enc) => enc.push(batch, &mut out).map_err(io)?,
                None => format::write_jsonl(&mut out, &batch).map_err(io)?,
            },
            OutputFormat::Csv => format::write_csv_rows(&mut out, &batch).map_err(io)?,
            OutputFormat::Json => {
                let mut buf = Vec::new();
                format::write_jsonl(&mut buf, &batch).map_err(io)?;
                for line in String::from_utf8_lossy(&buf).lines() {
                    if !first_json {
                        out.write_all(b",\n").map_err(io)?;
                    }
                    first_json = false;
                    out.write_all(line.as_bytes()).map_err(io)?;
                }
            }
            OutputFormat::Table => table_rows.push(batch),
        }
    }
    if let Some(enc) = encoder.take() {
        enc.finish(&mut out).map_err(io)?;
    }
    match format {
        OutputFormat::Json => out.write_all(b"]\n").map_err(io)?,
        OutputFormat::Table => {
            let view = crate::alerts_out::View::stdout();
            if view == crate::alerts_out::View::default() {
                format::write_table(&mut out, &schema, &table_rows, MAX_CELL).map_err(io)?;
            } else {
                write_fitted_table(&mut out, &schema, &table_rows, view).map_err(io)?;
            }
            writeln!(out, "({rows} rows)").map_err(io)?;
        }
        _ => {}
    }
    out.flush().map_err(io)?;
    if let (Some(l), OutputFormat::Jsonl) = (&loaded, format) {
        let summary = serde_json::json!({"summary": {
            "status": if status.incomplete && !args.allow_partial { "incomplete" } else { "ok" },
            "exit_code": status.code(),
            "rows": rows,
            "evidence": evidence::report_json(&l.report),
        }});
        eprintln!("{summary}");
    }
    if status.incomplete {
        eprintln!(
            "warning: evidence incomplete: the rows come from the evidence that could be read ({})",
            if args.allow_partial {
                "--allow-partial"
            } else {
                "exit status 3; --allow-partial accepts it"
            }
        );
    }
    Ok(status.exit_code())
}

/// Longest cell of the table view, in characters.
const MAX_CELL: usize = 60;
/// Columns are not narrowed below this many characters to fit the terminal.
const MIN_COLUMN: usize = 8;

/// Whether a column holds severities (its cells are coloured by severity).
fn is_severity_column(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with("severity") || n == "level"
}

/// The table view on a terminal: the columns of the plain view ([`format::write_table`]),
/// narrowed (widest first, cells cut with `…`) until the rows fit `view.width`, and severities in
/// colour.
fn write_fitted_table(
    out: &mut impl Write,
    schema: &datafusion::arrow::datatypes::Schema,
    batches: &[datafusion::arrow::array::RecordBatch],
    view: crate::alerts_out::View,
) -> std::io::Result<()> {
    use crate::term;
    let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let severity: Vec<bool> = headers.iter().map(|h| is_severity_column(h)).collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            rows.push(
                b.columns()
                    .iter()
                    .map(|c| term::elide(&format::cell_text(c, r).replace(['\n', '\r', '\t'], " "), MAX_CELL))
                    .collect(),
            );
        }
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    if let Some(limit) = view.width {
        let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
        while total(&widths) > limit {
            let Some((i, _)) = widths
                .iter()
                .enumerate()
                .filter(|(_, w)| **w > MIN_COLUMN)
                .max_by_key(|(i, w)| (**w, usize::MAX - i))
            else {
                break;
            };
            widths[i] -= 1;
        }
    }
    let line = |cells: &[String], paint: bool| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let cell = format!("{:<w$}", term::elide(c, widths[i]), w = widths[i]);
                if paint && severity[i] {
                    term::severity(&cell, view.color)
                } else {
                    cell
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", term::bold(&line(&headers, false), view.color))?;
    writeln!(
        out,
        "{}",
        widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  ")
    )?;
    for r in &rows {
        writeln!(out, "{}", line(r, true))?;
    }
    Ok(())
}

/// Encodes record batches as JSON lines on a thread of its own; the encoded bytes come back in
/// batch order and are written by the caller (which holds the output).
struct JsonlEncoder {
    batches: Option<std::sync::mpsc::SyncSender<datafusion::arrow::array::RecordBatch>>,
    encoded: std::sync::mpsc::Receiver<Vec<u8>>,
    thread: std::thread::JoinHandle<()>,
}

impl JsonlEncoder {
    fn start() -> JsonlEncoder {
        // A few batches in flight keep both sides busy without holding much memory.
        let (batches, input) = std::sync::mpsc::sync_channel::<datafusion::arrow::array::RecordBatch>(4);
        let (output, encoded) = std::sync::mpsc::channel::<Vec<u8>>();
        let thread = std::thread::spawn(move || {
            for batch in input {
                let mut buf = Vec::with_capacity(batch.num_rows() * 128);
                format::encode_jsonl(&mut buf, &batch);
                if output.send(buf).is_err() {
                    break;
                }
            }
        });
        JsonlEncoder {
            batches: Some(batches),
            encoded,
            thread,
        }
    }

    /// Hands a batch to the encoder and writes whatever it has finished so far.
    fn push(&mut self, batch: datafusion::arrow::array::RecordBatch, out: &mut impl Write) -> std::io::Result<()> {
        if let Some(tx) = &self.batches
            && tx.send(batch).is_err()
        {
            return Err(std::io::Error::other("the JSON encoder stopped"));
        }
        while let Ok(buf) = self.encoded.try_recv() {
            out.write_all(&buf)?;
        }
        Ok(())
    }

    /// Waits for the last batches and writes them.
    fn finish(mut self, out: &mut impl Write) -> std::io::Result<()> {
        self.batches = None;
        for buf in &self.encoded {
            out.write_all(&buf)?;
        }
        self.thread
            .join()
            .map_err(|_| std::io::Error::other("the JSON encoder failed"))
    }
}
