//! Files escort writes: always mode 0600, always atomically, so a failed write
//! leaves the old file whole.

use crate::secret::Secret;
use crate::vars::Var;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Replace `path` with `bytes`: write a private temp file beside it, fsync,
/// rename over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let write = || -> std::io::Result<()> {
        // tempfile creates the file with mode 0600 on Unix.
        let mut tmp = tempfile::Builder::new().prefix(".escort-").tempfile_in(dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().with_context(|| format!("could not write {}", path.display()))
}

/// Append to a file that another program owns ($GITHUB_ENV), in one write.
pub fn append(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("could not open {}", path.display()))?;
    f.write_all(bytes).and_then(|_| f.flush()).with_context(|| format!("could not write {}", path.display()))
}

/// A new directory only the user can enter, for ESC `files`.
pub fn private_dir(parent: &Path) -> Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("escort-");
    // Created with the mode, not chmod-ed after: no moment when others can enter.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    builder.tempdir_in(parent).with_context(|| format!("could not create a private directory in {}", parent.display()))
}

/// Write each file variable's content to its own 0600 file in `dir` and export
/// the path instead. The content stays sensitive: it moves to `secret_parts`.
pub fn materialize(vars: Vec<Var>, dir: &Path) -> Result<Vec<Var>> {
    vars.into_iter()
        .map(|mut v| {
            if !v.file {
                return Ok(v);
            }
            let path: PathBuf = dir.join(&v.name);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&path).with_context(|| format!("could not create {}", path.display()))?;
            f.write_all(v.value.expose().as_bytes()).with_context(|| format!("could not write {}", path.display()))?;
            let content = std::mem::replace(&mut v.value, Secret::new(path.to_string_lossy()));
            if v.secret {
                v.secret_parts.push(content);
            }
            v.secret = false;
            v.file = false;
            Ok(v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.env");
        std::fs::write(&path, "old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left behind");
    }

    #[test]
    fn failed_atomic_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: the rename must fail.
        let path = dir.path().join("target");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("keep"), "old").unwrap();
        assert!(write_atomic(&path, b"new").is_err());
        assert_eq!(std::fs::read_to_string(path.join("keep")).unwrap(), "old");
    }

    #[test]
    fn materialized_files_hold_the_content_and_hide_it() {
        let dir = private_dir(&std::env::temp_dir()).unwrap();
        let mut file = Var::secret("KUBECONFIG", "file-canary\nline2");
        file.file = true;
        let out = materialize(vec![file, Var::plain("A", "1")], dir.path()).unwrap();
        let path = out[0].value.expose().to_string();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "file-canary\nline2");
        assert!(!out[0].secret && out[0].secret_parts[0].expose() == "file-canary\nline2");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777, 0o700);
        }
    }
}
