//! Diagnostic rendering shared by the commands: source excerpt, caret, expected, help.

use ariadne::{Color, Config, IndexType, Label, Report, ReportKind, Source};
use engine::QueryError;
use kql::{Diagnostic, LineIndex};
use std::io::{IsTerminal, Write};

/// Writes each diagnostic against `file_text`; `map` turns a query offset into a file offset.
pub fn write_diagnostics(
    out: &mut impl Write,
    name: &str,
    file_text: &str,
    diags: &[Diagnostic],
    map: &dyn Fn(usize) -> usize,
    color: bool,
) -> std::io::Result<()> {
    let index = LineIndex::new(file_text);
    for d in diags {
        let start = map(d.span.start as usize).min(file_text.len());
        let end = map(d.span.end as usize).clamp(start, file_text.len());
        let pos = index.line_col(start);
        let label_text = match d.expected_phrase() {
            Some(e) => format!("expected {e}"),
            None => d.message.clone(),
        };
        let mut report = Report::build(ReportKind::Error, (name, start..end))
            .with_config(Config::default().with_color(color).with_index_type(IndexType::Byte))
            .with_message(format!("{} (line {}, column {})", d.message, pos.line, pos.column))
            .with_label(
                Label::new((name, start..end))
                    .with_message(label_text)
                    .with_color(Color::Red),
            );
        if let Some(h) = &d.help {
            report = report.with_help(h);
        }
        report.finish().write((name, Source::from(file_text)), &mut *out)?;
    }
    Ok(())
}

/// Prints why a query did not run to stderr.
pub fn query_error(name: &str, text: &str, e: &QueryError) {
    let color = std::io::stderr().is_terminal();
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let _ = match e {
        QueryError::Syntax(d) => write_diagnostics(&mut err, name, text, d, &|o| o, color),
        QueryError::Plan(d) => write_diagnostics(&mut err, name, text, std::slice::from_ref(d), &|o| o, color),
        QueryError::Execution(m) => writeln!(err, "error: {m}"),
    };
}
