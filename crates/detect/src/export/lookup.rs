//! The catalog as a lookup table for a SIEM: one row per indicator with its tool, as a Sentinel
//! watchlist (`SearchKey` first) or as the snake_case lookup CSV Splunk, Elastic, QRadar,
//! SecOps, LogScale and SentinelOne import.

use crate::catalog::{self, Tool};

/// The shape of the lookup CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupStyle {
    /// Microsoft Sentinel watchlist: `SearchKey` (the indicator) first, PascalCase columns.
    Watchlist,
    /// A lookup table: `indicator,kind,tool_id,tool_name,tool_category`.
    Lookup,
}

/// CSV field, quoted when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The catalog's indicators (built-in Windows tools left out, as the pack leaves them out) as
/// CSV text, sorted by tool and indicator.
pub fn catalog_lookup(tools: &[Tool], style: LookupStyle) -> String {
    let mut rows: Vec<[String; 5]> = Vec::new();
    for t in tools.iter().filter(|t| !t.builtin) {
        for i in catalog::indicators(t) {
            rows.push([
                i.value,
                i.kind.to_string(),
                t.id.clone(),
                t.name.clone(),
                t.category.clone(),
            ]);
        }
    }
    rows.sort_by(|a, b| (&a[2], &a[1], &a[0]).cmp(&(&b[2], &b[1], &b[0])));
    rows.dedup();
    let mut out = String::from(match style {
        LookupStyle::Watchlist => "SearchKey,Kind,ToolId,ToolName,ToolCategory\n",
        LookupStyle::Lookup => "indicator,kind,tool_id,tool_name,tool_category\n",
    });
    for r in rows {
        let line: Vec<String> = r.iter().map(|f| field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}
