//! `ratcatcher explain RULE` and `ratcatcher catalog [TERM]`: a rule's investigation guide and
//! playbook, and searching the remote-access-tool catalog.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Prints a rule's summary and its guide (Markdown).
pub fn explain(rule_id: &str, rules_paths: &[PathBuf]) -> ExitCode {
    let rules = match detect::load_rules(rules_paths) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(rule) = rules
        .iter()
        .find(|r| r.id == rule_id || r.guid.as_deref() == Some(rule_id) || r.name.eq_ignore_ascii_case(rule_id))
    else {
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        ids.sort_by_key(|id| kql::diag::edit_distance(id, rule_id));
        eprintln!(
            "error: no rule `{rule_id}`; closest: {}",
            ids.iter().take(3).copied().collect::<Vec<_>>().join(", ")
        );
        return ExitCode::from(2);
    };
    let color = crate::term::color(crate::term::Stream::Stdout);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}",
        crate::term::bold(&format!("# {} ({})", rule.name, rule.id), color)
    );
    let _ = writeln!(
        out,
        "\nseverity {} | tactics {} | techniques {} | every {} over {}",
        crate::term::severity(rule.severity.name(), color),
        rule.tactics.join(", "),
        rule.techniques.join(", "),
        rule.query_frequency_text.as_deref().unwrap_or("-"),
        rule.query_period_text.as_deref().unwrap_or("-"),
    );
    if !rule.description.is_empty() {
        let _ = writeln!(out, "\n{}", rule.description);
    }
    match &rule.guide {
        Some(g) => {
            let _ = writeln!(out);
            for line in g.trim_end().lines() {
                let heading = line.starts_with('#');
                let _ = writeln!(out, "{}", crate::term::bold(line, color && heading));
            }
        }
        None => {
            let _ = writeln!(out, "\n(no investigation guide: add {}.md next to the rule)", rule.id);
        }
    }
    let _ = writeln!(
        out,
        "\n{}\n\n```kql\n{}\n```",
        crate::term::bold("## Query", color),
        rule.query.trim_end()
    );
    ExitCode::SUCCESS
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum CatalogFormat {
    Table,
    Jsonl,
    Csv,
}

/// Lists or searches the catalog.
pub fn catalog(term: Option<&str>, format: CatalogFormat, indicators: bool) -> ExitCode {
    let tools = detect::catalog::builtin();
    let selected: Vec<&detect::Tool> = match term {
        Some(t) => detect::catalog::search(&tools, t),
        None => tools.iter().collect(),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let result: std::io::Result<()> = (|| {
        match (format, indicators) {
            (CatalogFormat::Csv, true) => {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(["ToolId", "ToolName", "ToolCategory", "Kind", "Indicator"])
                    .map_err(std::io::Error::other)?;
                for t in &selected {
                    for i in detect::catalog::indicators(t) {
                        w.write_record([&t.id, &t.name, &t.category, i.kind, &i.value])
                            .map_err(std::io::Error::other)?;
                    }
                }
                w.flush()?;
            }
            (CatalogFormat::Csv, false) => {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record([
                    "ToolId",
                    "ToolName",
                    "ToolCategory",
                    "Builtin",
                    "Vendor",
                    "Executables",
                    "Domains",
                ])
                .map_err(std::io::Error::other)?;
                for t in &selected {
                    w.write_record([
                        t.id.as_str(),
                        &t.name,
                        &t.category,
                        if t.builtin { "true" } else { "false" },
                        t.vendor.as_deref().unwrap_or(""),
                        &t.executables.join(";"),
                        &t.domains
                            .iter()
                            .chain(&t.domain_patterns)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(";"),
                    ])
                    .map_err(std::io::Error::other)?;
                }
                w.flush()?;
            }
            (CatalogFormat::Jsonl, _) => {
                let raw: Vec<serde_json::Value> =
                    serde_json::from_str(detect::catalog::BUILTIN_CATALOG).map_err(std::io::Error::other)?;
                for v in raw {
                    if selected
                        .iter()
                        .any(|t| v.get("id").and_then(|i| i.as_str()) == Some(t.id.as_str()))
                    {
                        serde_json::to_writer(&mut out, &v)?;
                        out.write_all(b"\n")?;
                    }
                }
            }
            (CatalogFormat::Table, _) => {
                for t in &selected {
                    let exes = t.executables.iter().take(4).cloned().collect::<Vec<_>>().join(", ");
                    let doms = t
                        .domains
                        .iter()
                        .chain(&t.domain_patterns)
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ");
                    writeln!(out, "{:<28} {:<30} {:<27} {exes}  {doms}", t.id, t.name, t.category)?;
                }
                writeln!(out, "({} tools)", selected.len())?;
            }
        }
        out.flush()
    })();
    match result {
        Ok(()) if selected.is_empty() => ExitCode::from(1),
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
