//! Embeds the rule pack (`rules/*.yaml` and their `rules/*.md` guides) and the pack's tests
//! (`rules/tests/**`: cases, their evidence and tuning, and the example evidence one case reads)
//! into the crate.

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
    // The tests and the example evidence one of them reads (`../../examples`), by their path
    // from the repository's root.
    let root = manifest.join("../..");
    let mut test_files = Vec::new();
    collect(&rules.join("tests"), &mut test_files);
    collect(&root.join("examples/evidence"), &mut test_files);
    test_files.push(root.join("examples/tuning.toml"));
    println!("cargo:rerun-if-changed={}", root.join("examples/tuning.toml").display());
    test_files.sort();
    out.push_str(
        "/// The pack's tests and the evidence they read: (path from the repository's root, bytes).\n\
         pub const TEST_FILES: &[(&str, &[u8])] = &[\n",
    );
    for f in &test_files {
        let rel = f.strip_prefix(&root).expect("under the repository");
        let rel: Vec<&str> = rel.iter().map(|c| c.to_str().expect("UTF-8 test path")).collect();
        let abs = f.canonicalize().expect("test file path");
        writeln!(
            out,
            "    ({:?}, include_bytes!({:?})),",
            rel.join("/"),
            abs.display().to_string()
        )
        .expect("write to string");
        println!("cargo:rerun-if-changed={}", abs.display());
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("pack.rs");
    std::fs::write(dest, out).expect("write pack.rs");
}

/// Every file below `dir`, recursively.
fn collect(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}
