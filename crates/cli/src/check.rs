//! `ratcatcher check`: parses queries and prints their diagnostics (text or JSON lines); with
//! `--sentinel`, validates Sentinel analytic-rule templates (the checks live in `detect::validate`).

use crate::CheckFormat;
use crate::sources::{self, QuerySource};
use kql::{Diagnostic, LineIndex};
use serde::Serialize;
use std::io::{IsTerminal, Write};
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

pub fn run(paths: &[PathBuf], format: CheckFormat, quiet: bool) -> ExitCode {
    let (files, mut errors) = sources::discover(paths);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let color = format == CheckFormat::Text && std::io::stdout().is_terminal();
    let (mut parsed, mut failed, mut other_yaml) = (0usize, 0usize, 0usize);
    for found in files {
        let src = match sources::read(&found.path) {
            Ok(s) => s,
            // Rule tests, configs and other YAML beside the rules in a folder are not rules.
            Err(e) if e.not_a_rule && found.in_folder => {
                other_yaml += 1;
                continue;
            }
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
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
        if written.is_err() {
            // The reader went away (a closed pipe): stop quietly.
            return ExitCode::from(2);
        }
    }
    for e in &errors {
        eprintln!("error: {}: {}", e.path.display(), e.message);
    }
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
