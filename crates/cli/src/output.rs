//! Output files, opened before any evidence is read and written safely: into a temporary file
//! beside the target that is renamed over it at the end. A path that cannot be written fails in
//! the first second, not after an hour of hunting, and a run that fails late leaves any earlier
//! file at that path as it was. A target that is not a regular file (`/dev/null`, a pipe, a
//! terminal) is written directly: renaming over it would replace the device or pipe with a file.

use std::fs::File;
use std::path::{Path, PathBuf};

/// A file being written; [`OutFile::commit`] puts it in place.
pub struct OutFile {
    target: Target,
    path: PathBuf,
}

/// Where the bytes go until the commit.
enum Target {
    /// A temporary file beside a regular (or new) file, renamed over it at the end.
    Staged(tempfile::NamedTempFile),
    /// A device, pipe or socket, written as it is.
    Direct(File),
}

impl OutFile {
    /// Creates the temporary file beside `path`; `flag` names the option in errors (`-o`).
    pub fn create(path: &Path, flag: &str) -> Result<OutFile, String> {
        if path.is_dir() {
            return Err(format!("{flag} {}: is a folder; give a file name", path.display()));
        }
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| format!("{flag} {}: cannot write there: {e}", path.display()))?;
            return Ok(OutFile {
                target: Target::Direct(file),
                path: path.to_path_buf(),
            });
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map_or_else(|| "output".to_string(), |n| n.to_string_lossy().into_owned());
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(parent)
            .map_err(|e| format!("{flag} {}: cannot write there: {e}", path.display()))?;
        Ok(OutFile {
            target: Target::Staged(tmp),
            path: path.to_path_buf(),
        })
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        match &mut self.target {
            Target::Staged(tmp) => tmp.as_file_mut(),
            Target::Direct(file) => file,
        }
    }

    /// Flushes the file to disk and renames it over the target.
    pub fn commit(self) -> Result<(), String> {
        let path = self.path;
        let tmp = match self.target {
            Target::Staged(tmp) => tmp,
            Target::Direct(mut file) => {
                use std::io::Write;
                return file.flush().map_err(|e| format!("{}: {e}", path.display()));
            }
        };
        tmp.as_file()
            .sync_all()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Temporary files are private; the result is an ordinary file.
            let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
        }
        tmp.persist(&path)
            .map_err(|e| format!("{}: {}", path.display(), e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn writes_in_place_only_on_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("alerts.jsonl");
        std::fs::write(&target, "old\n").expect("write");
        let mut out = OutFile::create(&target, "-o").expect("create");
        writeln!(out.file(), "new").expect("write");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "old\n");
        drop(out);
        assert_eq!(
            std::fs::read_to_string(&target).expect("read"),
            "old\n",
            "dropped: nothing changes"
        );
        let mut out = OutFile::create(&target, "-o").expect("create");
        writeln!(out.file(), "new").expect("write");
        out.commit().expect("commit");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "new\n");
        let leftovers = std::fs::read_dir(dir.path()).expect("ls").count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }

    /// A pipe stays a pipe: the output is written into it, not renamed over it (as `-o /dev/null`
    /// must leave the device alone).
    #[cfg(unix)]
    #[test]
    fn pipes_and_devices_are_written_as_they_are() {
        use std::io::Read;
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("alerts.fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut text = String::new();
                File::open(&fifo)
                    .expect("open fifo")
                    .read_to_string(&mut text)
                    .expect("read");
                text
            })
        };
        let mut out = OutFile::create(&fifo, "-o").expect("create");
        writeln!(out.file(), "alert").expect("write");
        out.commit().expect("commit");
        assert_eq!(reader.join().expect("reader"), "alert\n");
        let kind = std::fs::metadata(&fifo).expect("fifo still there").file_type();
        assert!(kind.is_fifo(), "still a pipe, not a file renamed over it");
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("ls").count(),
            1,
            "no temporary file"
        );
    }

    #[test]
    fn unwritable_places_fail_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = OutFile::create(&dir.path().join("no/such/folder/a.jsonl"), "-o")
            .err()
            .expect("error");
        assert!(e.starts_with("-o ") && e.contains("cannot write there"), "{e}");
        let e = OutFile::create(dir.path(), "-o").err().expect("error");
        assert!(e.contains("is a folder"), "{e}");
    }
}
