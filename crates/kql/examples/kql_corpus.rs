//! Corpus check: parses every `.kql` file under the given folders, verifies print → re-parse
//! gives the same tree, and reports parse rate, round-trip failures and parse time.
//!
//! `cargo run --release -p ratcatcher-kql --example kql_corpus -- DIR... [--list]`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "kql") {
            out.push(p);
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let list = args.iter().any(|a| a == "--list");
    let mut files = Vec::new();
    for a in args.iter().filter(|a| !a.starts_with("--")) {
        let p = Path::new(a);
        if p.is_dir() {
            if let Err(e) = collect(p, &mut files) {
                eprintln!("{a}: {e}");
                std::process::exit(2);
            }
        } else {
            files.push(p.to_path_buf());
        }
    }
    let texts: Vec<(PathBuf, String)> = files
        .into_iter()
        .filter_map(|p| match std::fs::read_to_string(&p) {
            Ok(t) => Some((p, t)),
            Err(e) => {
                eprintln!("{}: {e}", p.display());
                None
            }
        })
        .collect();
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    let mut parse_time = Duration::ZERO;
    let (mut ok, mut failed, mut rt_failed) = (0usize, 0usize, 0usize);
    for (path, text) in &texts {
        let t0 = Instant::now();
        let parsed = kql::parse(text);
        parse_time += t0.elapsed();
        if !parsed.is_ok() {
            failed += 1;
            if list {
                let d = &parsed.diagnostics[0];
                let pos = kql::LineIndex::new(text).line_col(d.span.start as usize);
                println!("FAIL {}:{}:{}: {}", path.display(), pos.line, pos.column, d.message);
            }
            continue;
        }
        ok += 1;
        let printed = parsed.query.to_string();
        let again = kql::parse(&printed);
        if !again.is_ok() || again.query != parsed.query {
            rt_failed += 1;
            if list {
                let why = match again.diagnostics.first() {
                    Some(d) => format!("printed text fails: {} at {:?}", d.message, &printed[d.span.range()]),
                    None => first_difference(&format!("{:#?}", parsed.query), &format!("{:#?}", again.query)),
                };
                println!("ROUNDTRIP {}: {why}", path.display());
            }
        }
    }
    let total = ok + failed;
    println!(
        "{ok} parsed, {failed} failed of {total} ({:.2}%); round trip: {} of {ok} identical; parse time {:.1} ms for {:.1} MB ({:.1} MB/s)",
        100.0 * ok as f64 / total.max(1) as f64,
        ok - rt_failed,
        parse_time.as_secs_f64() * 1e3,
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / parse_time.as_secs_f64().max(1e-9)
    );
    if rt_failed > 0 {
        std::process::exit(1);
    }
}

/// The first differing line of two debug dumps, to show where a round trip changed the tree.
fn first_difference(a: &str, b: &str) -> String {
    let strip = |l: &str| {
        l.chars()
            .filter(|c| !c.is_ascii_digit() && *c != '.')
            .collect::<String>()
    };
    for (x, y) in a.lines().zip(b.lines()) {
        if strip(x) != strip(y) {
            return format!("tree differs: {} != {}", x.trim(), y.trim());
        }
    }
    "tree differs in length".into()
}
