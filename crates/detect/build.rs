//! Embeds the rule pack (`rules/*.yaml` and their `rules/*.md` guides) into the crate.

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let rules = manifest.join("../../rules");
    println!("cargo:rerun-if-changed={}", rules.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&rules)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "md")));
    files.sort();
    let mut out = String::from("/// The pack's files: (file name, text).\npub const FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).expect("UTF-8 file name");
        let abs = f.canonicalize().expect("rule file path");
        writeln!(out, "    ({name:?}, include_str!({:?})),", abs.display().to_string()).expect("write to string");
        println!("cargo:rerun-if-changed={}", abs.display());
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("pack.rs");
    std::fs::write(dest, out).expect("write pack.rs");
}
