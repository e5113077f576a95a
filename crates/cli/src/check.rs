//! `ratcatcher check`: parses queries and prints their diagnostics (text or JSON lines); with
//! `--sentinel`, validates Sentinel analytic-rule templates (the checks live in `detect::validate`).

use crate::CheckFormat;
use crate::sources::{self, QuerySource};
use kql::{Diagnostic, LineIndex};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    message: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    expected: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRecord<'a> {
    path: String,
    ok: bool,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// What reading the inputs left over: the ones that could not be read (already printed), and
/// the YAML files beside the rules in a folder that are not rules.
struct Inputs {
    errors: Vec<sources::SourceError>,
    other_yaml: usize,
}

/// Reads the queries of `paths` one at a time and hands each to `each`, which returns false to
/// stop (the output went away; then `None`).
fn each_query(paths: &[PathBuf], mut each: impl FnMut(QuerySource) -> bool) -> Option<Inputs> {
    let (files, mut errors) = sources::discover(paths);
    let mut other_yaml = 0;
    for found in files {
        match sources::read(&found.path) {
            Ok(src) => {
                if !each(src) {
                    return None;
                }
            }
            // Rule tests, configs and other YAML beside the rules in a folder are not rules.
            Err(e) if e.not_a_rule && found.in_folder => other_yaml += 1,
            Err(e) => errors.push(e),
        }
    }
    for e in &errors {
        eprintln!("error: {}: {}", e.path.display(), e.message);
    }
    Some(Inputs { errors, other_yaml })
}

pub fn run(paths: &[PathBuf], format: CheckFormat, quiet: bool) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let color = format == CheckFormat::Text && crate::term::color(crate::term::Stream::Stdout);
    let (mut parsed, mut failed) = (0usize, 0usize);
    let inputs = each_query(paths, |src| {
        let result = kql::parse(&src.query);
        if result.is_ok() {
            parsed += 1;
        } else {
            failed += 1;
        }
        let written = match format {
            CheckFormat::Jsonl => write_jsonl(&mut out, &src, &result.diagnostics),
            CheckFormat::Text if result.is_ok() && quiet => Ok(()),
            CheckFormat::Text if result.is_ok() => writeln!(out, "{}: ok", src.path.display()),
            CheckFormat::Text => write_text(&mut out, &src, &result.diagnostics, color),
        };
        written.is_ok()
    });
    let Some(Inputs { errors, other_yaml }) = inputs else {
        // The reader went away (a closed pipe): stop quietly.
        return ExitCode::from(2);
    };
    let mut summary = format!("{parsed} parsed, {failed} failed");
    if !errors.is_empty() {
        summary += &format!(", {} unreadable", errors.len());
    }
    if other_yaml > 0 {
        summary += &format!(", {other_yaml} YAML files without a `query` skipped");
    }
    finish(&mut out, format, &summary, !errors.is_empty(), failed > 0)
}

#[derive(Serialize)]
struct JsonTemplate {
    path: String,
    ok: bool,
    problems: Vec<String>,
}

/// `check --sentinel`: each YAML rule file judged as the Azure-Sentinel repository judges an
/// analytic-rule template. Exit code: 0 all valid, 1 a template has problems, 2 unreadable input.
pub fn run_sentinel(paths: &[PathBuf], format: CheckFormat, quiet: bool) -> ExitCode {
    let (reports, errors) = detect::validate::validate_paths(paths);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut valid, mut invalid) = (0usize, 0usize);
    for r in &reports {
        if r.is_ok() {
            valid += 1;
        } else {
            invalid += 1;
        }
        let path = r.path.display().to_string();
        let written = match format {
            CheckFormat::Jsonl => {
                let record = JsonTemplate {
                    path,
                    ok: r.is_ok(),
                    problems: r.problems.iter().map(ToString::to_string).collect(),
                };
                serde_json::to_writer(&mut out, &record)
                    .map_err(std::io::Error::from)
                    .and_then(|()| writeln!(out))
            }
            CheckFormat::Text if r.is_ok() && quiet => Ok(()),
            CheckFormat::Text if r.is_ok() => writeln!(out, "{path}: ok"),
            CheckFormat::Text => r.problems.iter().try_for_each(|p| writeln!(out, "{path}: {p}")),
        };
        if written.is_err() {
            // The reader went away (a closed pipe): stop quietly.
            return ExitCode::from(2);
        }
    }
    for e in &errors {
        eprintln!("error: {}: {}", e.path.display(), e.message);
    }
    let mut summary = format!("{valid} valid, {invalid} with problems");
    if !errors.is_empty() {
        summary += &format!(", {} unreadable", errors.len());
    }
    finish(&mut out, format, &summary, !errors.is_empty(), invalid > 0)
}

/// Prints the summary line (stdout for text, stderr beside JSON lines) and gives the exit code:
/// 2 something unreadable, 1 problems found, 0 all clean.
fn finish(out: &mut impl Write, format: CheckFormat, summary: &str, unreadable: bool, problems: bool) -> ExitCode {
    match format {
        CheckFormat::Text => {
            let _ = writeln!(out, "{summary}");
        }
        CheckFormat::Jsonl => eprintln!("{summary}"),
    }
    if unreadable {
        ExitCode::from(2)
    } else if problems {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn write_jsonl(out: &mut impl Write, src: &QuerySource, diags: &[Diagnostic]) -> std::io::Result<()> {
    let index = LineIndex::new(&src.file_text);
    let diagnostics = diags
        .iter()
        .map(|d| {
            let start = index.line_col(src.file_offset(d.span.start as usize));
            let end = index.line_col(src.file_offset(d.span.end as usize));
            JsonDiagnostic {
                message: &d.message,
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
                expected: &d.expected,
                help: d.help.as_deref(),
            }
        })
        .collect();
    let record = JsonRecord {
        path: src.path.display().to_string(),
        ok: diags.is_empty(),
        diagnostics,
    };
    serde_json::to_writer(&mut *out, &record)?;
    writeln!(out)
}

fn write_text(out: &mut impl Write, src: &QuerySource, diags: &[Diagnostic], color: bool) -> std::io::Result<()> {
    let name = src.path.display().to_string();
    crate::render::write_diagnostics(out, &name, &src.file_text, diags, &|o| src.file_offset(o), color)
}

/// Options of `check --schema`.
pub struct SchemaOptions {
    /// `--schema-dir` folders.
    pub dirs: Vec<PathBuf>,
    /// Queries over unknown tables or functions count as errors.
    pub strict: bool,
    /// JSON lines carry the query text.
    pub with_query: bool,
}

/// The schemas `check --schema` uses: the shipped ones, telemetry's Defender tables (so the
/// check and the readers never disagree), then the `--schema-dir` files; and the files that
/// could not be used.
fn load_schemas(opts: &SchemaOptions) -> (detect::schema::Schemas, Vec<detect::schema::SchemaError>) {
    use detect::schema::{Origin, TableSchema};
    let mut schemas = detect::schema::Schemas::builtin();
    for t in telemetry::schema::tables() {
        schemas.insert(TableSchema::from_arrow(
            t.name(),
            &t.schema(),
            Origin::Given("telemetry"),
        ));
    }
    let mut errors = Vec::new();
    for dir in &opts.dirs {
        let (tables, errs) = detect::schema::load_dir(dir);
        for t in tables {
            schemas.insert(t);
        }
        errors.extend(errs);
    }
    (schemas, errors)
}

/// `check --print-schemas`: the schemas as one JSON array (what the oracle comparison gives
/// Microsoft's analyzer).
pub fn print_schemas(opts: &SchemaOptions) -> ExitCode {
    let (schemas, errors) = load_schemas(opts);
    for e in &errors {
        eprintln!("error: schema {e}");
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if serde_json::to_writer_pretty(&mut out, &schemas.to_json()).is_err() || writeln!(out).is_err() {
        return ExitCode::from(2);
    }
    if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

#[derive(Serialize)]
struct JsonSchemaRecord<'a> {
    path: String,
    ok: bool,
    /// `ok`, `error`, `syntax`, `not_checked` or `not_planned`.
    verdict: &'static str,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unknown_tables: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unknown_functions: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<&'a str>,
}

/// `check --schema`: each query planned against the schemas. Exit code: 2 an input or schema
/// file unreadable, 1 a query with errors (syntax or schema), 0 otherwise.
pub fn run_schema(paths: &[PathBuf], format: CheckFormat, quiet: bool, opts: &SchemaOptions) -> ExitCode {
    use detect::schema::Verdict;
    let (schemas, schema_errors) = load_schemas(opts);
    for e in &schema_errors {
        eprintln!("error: schema {e}");
    }
    let tables = schemas.len();
    let checker = match detect::schema::Checker::new(schemas) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let color = format == CheckFormat::Text && crate::term::color(crate::term::Stream::Stdout);
    let (mut ok, mut failed, mut syntax, mut unknown, mut gaps) = (0usize, 0, 0, 0, 0);
    let inputs = each_query(paths, |src| {
        let verdict = checker.check(&src.query);
        let bad = match &verdict {
            Verdict::Ok => {
                ok += 1;
                false
            }
            Verdict::Error(_) => {
                failed += 1;
                true
            }
            Verdict::Syntax(_) => {
                syntax += 1;
                true
            }
            Verdict::NotChecked(_) => {
                unknown += 1;
                opts.strict
            }
            Verdict::NotPlanned(_) => {
                gaps += 1;
                false
            }
        };
        let written = match format {
            CheckFormat::Jsonl => write_schema_jsonl(&mut out, &src, &verdict, !bad, opts.with_query),
            CheckFormat::Text => write_schema_text(&mut out, &src, &verdict, quiet, color),
        };
        written.is_ok()
    });
    let Some(Inputs { errors, other_yaml }) = inputs else {
        return ExitCode::from(2);
    };
    let checked = ok + failed;
    let mut summary = format!(
        "{checked} checked against {tables} table schemas ({ok} ok, {failed} with errors), \
         {unknown} not checked (unknown tables or functions), {gaps} not planned (engine features), \
         {syntax} syntax errors"
    );
    if !errors.is_empty() {
        summary += &format!(", {} unreadable", errors.len());
    }
    if !schema_errors.is_empty() {
        summary += &format!(", {} schema files unusable", schema_errors.len());
    }
    if other_yaml > 0 {
        summary += &format!(", {other_yaml} YAML files without a `query` skipped");
    }
    let problems = failed + syntax > 0 || (opts.strict && unknown > 0);
    finish(
        &mut out,
        format,
        &summary,
        !errors.is_empty() || !schema_errors.is_empty(),
        problems,
    )
}

/// What `check --schema` says of queries over tables and functions it does not know.
fn unknown_phrase(u: &detect::schema::Unknown) -> String {
    let mut parts: Vec<String> = u
        .tables
        .iter()
        .map(|(t, hint)| match hint {
            Some(h) => format!("unknown table `{t}` (did you mean `{h}`?)"),
            None => format!("unknown table `{t}`"),
        })
        .collect();
    parts.extend(u.functions.iter().map(|f| format!("unknown function `{f}`")));
    parts.extend(
        u.wide
            .iter()
            .map(|p| format!("`{p}` reads more than {} tables", detect::schema::MAX_PATTERN_TABLES)),
    );
    parts.join(", ")
}

fn write_schema_text(
    out: &mut impl Write,
    src: &QuerySource,
    verdict: &detect::schema::Verdict,
    quiet: bool,
    color: bool,
) -> std::io::Result<()> {
    use detect::schema::Verdict;
    let path = src.path.display();
    let at = |span: kql::Span| {
        let p = LineIndex::new(&src.file_text).line_col(src.file_offset(span.start as usize));
        format!("line {}, column {}", p.line, p.column)
    };
    match verdict {
        Verdict::Ok if quiet => Ok(()),
        Verdict::Ok => writeln!(out, "{path}: ok"),
        Verdict::NotChecked(_) | Verdict::NotPlanned(_) if quiet => Ok(()),
        Verdict::NotChecked(u) => writeln!(
            out,
            "{path}: not checked: {} ({})",
            crate::render::clip(&unknown_phrase(u)),
            at(u.span)
        ),
        Verdict::NotPlanned(d) => writeln!(
            out,
            "{path}: not planned: {} ({}); the engine lacks this feature, the query is not judged",
            crate::render::clip(&d.message),
            at(d.span)
        ),
        Verdict::Error(d) => write_text(out, src, std::slice::from_ref(d), color),
        Verdict::Syntax(d) => write_text(out, src, d, color),
    }
}

fn write_schema_jsonl(
    out: &mut impl Write,
    src: &QuerySource,
    verdict: &detect::schema::Verdict,
    ok: bool,
    with_query: bool,
) -> std::io::Result<()> {
    use detect::schema::Verdict;
    let index = LineIndex::new(&src.file_text);
    fn diag<'d>(index: &LineIndex, src: &QuerySource, d: &'d kql::Diagnostic) -> JsonDiagnostic<'d> {
        let start = index.line_col(src.file_offset(d.span.start as usize));
        let end = index.line_col(src.file_offset(d.span.end as usize));
        JsonDiagnostic {
            message: &d.message,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            expected: &[],
            help: d.help.as_deref(),
        }
    }
    let diag = |d| diag(&index, src, d);
    let (name, diagnostics, tables, functions) = match verdict {
        Verdict::Ok => ("ok", vec![], vec![], vec![]),
        Verdict::Error(d) => ("error", vec![diag(d)], vec![], vec![]),
        Verdict::NotPlanned(d) => ("not_planned", vec![diag(d)], vec![], vec![]),
        Verdict::Syntax(ds) => ("syntax", ds.iter().map(diag).collect(), vec![], vec![]),
        Verdict::NotChecked(u) => (
            "not_checked",
            vec![],
            u.tables.iter().map(|(t, _)| t.as_str()).collect(),
            u.functions.iter().map(String::as_str).collect(),
        ),
    };
    let record = JsonSchemaRecord {
        path: src.path.display().to_string(),
        ok,
        verdict: name,
        diagnostics,
        unknown_tables: tables,
        unknown_functions: functions,
        query: with_query.then_some(src.query.as_str()),
    };
    serde_json::to_writer(&mut *out, &record)?;
    writeln!(out)
}
