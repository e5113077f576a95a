//! `externaldata` reads local files only where `EngineOptions::file_access` allows: queries and
//! rules are untrusted, so by default no file may be read, and with allowed folders nothing
//! outside them (symlinks and `..` resolved first).

use engine::{Engine, EngineOptions, FileAccess, QueryError, format};
use std::path::{Path, PathBuf};

/// A fresh folder for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ratcatcher-file-access-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `rel` (creating its folder) and returns its path.
    fn file(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn engine(access: FileAccess) -> Engine {
    Engine::new(EngineOptions {
        target_partitions: Some(1),
        file_access: access,
        ..Default::default()
    })
    .unwrap()
}

fn read_query(path: &str) -> String {
    format!(r#"externaldata(line:string) [@"{path}"] with(format="txt")"#)
}

/// The lines `externaldata` read from `path`, or the error message.
async fn read(engine: &Engine, path: &str) -> Result<Vec<String>, String> {
    match engine.query(&read_query(path)).await {
        Ok((_, batches)) => Ok(batches
            .iter()
            .flat_map(|b| (0..b.num_rows()).map(move |i| format::cell_text(b.column(0), i)))
            .collect()),
        Err(QueryError::Plan(d)) => Err(d.message),
        Err(e) => Err(e.to_string()),
    }
}

fn outside(path: &str) -> String {
    format!("externaldata: {path} is outside the folders rules may read (the evidence and --allow-read folders)")
}

#[tokio::test]
async fn a_file_under_an_allowed_folder_is_read() {
    let root = TempDir::new("under");
    let file = root.file("logs/a.txt", "one\ntwo\n");
    let e = engine(FileAccess::Under(vec![root.path().to_path_buf()]));
    assert_eq!(read(&e, file.to_str().unwrap()).await.unwrap(), ["one", "two"]);
    // As a file:// address, and with a `..` that stays inside the folder.
    let url = format!("file://{}", file.display());
    assert_eq!(read(&e, &url).await.unwrap(), ["one", "two"]);
    let inside = root.path().join("logs/../logs/a.txt");
    assert_eq!(read(&e, inside.to_str().unwrap()).await.unwrap(), ["one", "two"]);
    // Any: trusted queries read anything.
    let any = engine(FileAccess::Any);
    assert_eq!(read(&any, file.to_str().unwrap()).await.unwrap(), ["one", "two"]);
}

#[tokio::test]
async fn a_file_outside_the_folders_is_refused() {
    let root = TempDir::new("refused-root");
    let other = TempDir::new("refused-other");
    root.file("a.txt", "mine\n");
    let secret = other.file("secret.txt", "secret\n");
    let e = engine(FileAccess::Under(vec![root.path().to_path_buf()]));
    let p = secret.to_str().unwrap();
    assert_eq!(read(&e, p).await.unwrap_err(), outside(p));
    #[cfg(unix)]
    assert_eq!(read(&e, "/etc/passwd").await.unwrap_err(), outside("/etc/passwd"));
    // A folder whose name merely starts with the allowed one's is not under it.
    let sibling = PathBuf::from(format!("{}-sibling", root.path().display()));
    std::fs::create_dir_all(&sibling).unwrap();
    std::fs::write(sibling.join("x.txt"), "x\n").unwrap();
    let p = sibling.join("x.txt");
    let p = p.to_str().unwrap();
    assert_eq!(read(&e, p).await.unwrap_err(), outside(p));
    std::fs::remove_dir_all(&sibling).unwrap();
    // A missing file outside is refused the same way (no probing which files exist); inside,
    // the error says it is missing.
    let p = other.path().join("missing.txt");
    let p = p.to_str().unwrap();
    assert_eq!(read(&e, p).await.unwrap_err(), outside(p));
    let p = root.path().join("missing.txt");
    let msg = read(&e, p.to_str().unwrap()).await.unwrap_err();
    assert!(msg.starts_with(&format!("externaldata: {}: ", p.display())), "{msg}");
    assert!(!msg.contains("is outside the folders"), "{msg}");
}

#[tokio::test]
async fn dot_dot_cannot_escape() {
    let root = TempDir::new("dotdot-root");
    let other = TempDir::new("dotdot-other");
    other.file("secret.txt", "secret\n");
    let e = engine(FileAccess::Under(vec![root.path().to_path_buf()]));
    let name = other.path().file_name().unwrap().to_str().unwrap();
    let escaping = format!("{}/../{name}/secret.txt", root.path().display());
    assert_eq!(read(&e, &escaping).await.unwrap_err(), outside(&escaping));
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlink_out_of_the_folder_is_refused() {
    let root = TempDir::new("symlink-root");
    let other = TempDir::new("symlink-other");
    let secret = other.file("secret.txt", "secret\n");
    let link = root.path().join("innocent.txt");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    let dir_link = root.path().join("dir");
    std::os::unix::fs::symlink(other.path(), &dir_link).unwrap();
    let e = engine(FileAccess::Under(vec![root.path().to_path_buf()]));
    let p = link.to_str().unwrap();
    assert_eq!(read(&e, p).await.unwrap_err(), outside(p));
    let p = dir_link.join("secret.txt");
    let p = p.to_str().unwrap();
    assert_eq!(read(&e, p).await.unwrap_err(), outside(p));
    // A symlink within the folder is fine.
    let target = root.file("real.txt", "real\n");
    let inner = root.path().join("alias.txt");
    std::os::unix::fs::symlink(&target, &inner).unwrap();
    assert_eq!(read(&e, inner.to_str().unwrap()).await.unwrap(), ["real"]);
}

#[tokio::test]
async fn no_access_refuses_everything() {
    let root = TempDir::new("none");
    let file = root.file("a.txt", "a\n");
    let p = file.to_str().unwrap();
    // The default.
    let e = Engine::new(EngineOptions::default()).unwrap();
    assert_eq!(e.file_access(), &FileAccess::None);
    assert_eq!(read(&e, p).await.unwrap_err(), outside(p));
    assert_eq!(read(&engine(FileAccess::None), p).await.unwrap_err(), outside(p));
    // No folders, or only folders that do not exist, allow nothing either.
    assert_eq!(
        read(&engine(FileAccess::Under(vec![])), p).await.unwrap_err(),
        outside(p)
    );
    let gone = engine(FileAccess::Under(vec![root.path().join("does-not-exist")]));
    assert_eq!(read(&gone, p).await.unwrap_err(), outside(p));
    // set_file_access opens it up.
    let mut e = e;
    e.set_file_access(FileAccess::Under(vec![root.path().to_path_buf()]));
    assert_eq!(read(&e, p).await.unwrap(), ["a"]);
}

#[tokio::test]
async fn only_regular_files_are_read() {
    let root = TempDir::new("regular");
    std::fs::create_dir_all(root.path().join("sub")).unwrap();
    let e = engine(FileAccess::Under(vec![root.path().to_path_buf()]));
    let msg = read(&e, root.path().join("sub").to_str().unwrap()).await.unwrap_err();
    assert!(msg.ends_with("not a regular file"), "{msg}");
}

#[tokio::test]
async fn network_addresses_are_still_refused() {
    for access in [FileAccess::None, FileAccess::Any] {
        let e = engine(access);
        let msg = read(&e, "https://example.com/data.csv").await.unwrap_err();
        assert!(
            msg.contains("https://example.com/data.csv is a network address; ratcatcher reads local files only"),
            "{msg}"
        );
    }
}

#[test]
fn check_returns_the_canonical_path() {
    let root = TempDir::new("check");
    let file = root.file("a/b.txt", "b\n");
    let access = FileAccess::Under(vec![root.path().join("a/../a/..")]);
    let canonical = std::fs::canonicalize(&file).unwrap();
    assert_eq!(access.check(&root.path().join("a/./b.txt")), Ok(canonical.clone()));
    assert_eq!(FileAccess::Any.check(&file), Ok(canonical));
    assert_eq!(FileAccess::None.check(&file), Err(outside(file.to_str().unwrap())));
}
