//! Files escort writes: always mode 0600, always atomically, so a failed write
//! leaves the old file whole.

use crate::secret::Secret;
use crate::vars::Var;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Replace `path` with `bytes`: write a private temp file beside it, fsync,
/// rename over the target. Only a regular file is replaced (docs/load.md,
/// `--output`): a rename over a device, FIFO or socket would replace the
/// node itself (as root, `/dev/null` would become a file holding the
/// secrets), and over a symlink it would replace the link, not the file it
/// names, so both are refused.
///
/// A private file that already holds exactly `bytes` is left alone (running a
/// command twice rewrites nothing); returns whether it was written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<bool> {
    refuse_irregular(path)?;
    if holds(path, bytes) {
        return Ok(false);
    }
    replace(path, bytes, None)?;
    Ok(true)
}

/// Replace `path` with `bytes` as `write_atomic` does, but mode 0644: for a
/// file meant to be committed and read by all (what `escort init` writes),
/// never one that holds a value.
pub fn write_atomic_public(path: &Path, bytes: &[u8]) -> Result<()> {
    refuse_irregular(path)?;
    replace(path, bytes, Some(0o644))
}

/// Refuse to replace anything but a regular file (or nothing).
pub fn refuse_irregular(path: &Path) -> Result<()> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        let kind = meta.file_type();
        if kind.is_symlink() {
            return Err(crate::error::usage(format!(
                "{} is a symbolic link: escort replaces only regular files; give the path of the file itself",
                path.display()
            )));
        }
        if !kind.is_file() {
            return Err(crate::error::usage(format!(
                "{} is not a regular file (a directory, device, FIFO or socket): escort replaces only regular files",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Write a temp file beside `path` (0600, or `mode`), fsync, rename over it.
fn replace(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let write = || -> std::io::Result<()> {
        // tempfile creates the file with mode 0600 on Unix.
        let mut tmp = tempfile::Builder::new().prefix(".escort-").tempfile_in(dir)?;
        tmp.write_all(bytes)?;
        #[cfg(unix)]
        if let Some(mode) = mode {
            tmp.as_file().set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().map_err(without_temp_name).with_context(|| format!("could not write {}", path.display()))
}

/// tempfile's errors end in ` at path "DIR/.escort-XXXX"`: a name the user never
/// asked for and cannot find afterwards. The message names the file meant instead.
fn without_temp_name(e: std::io::Error) -> std::io::Error {
    let text = e.to_string();
    match text.split_once(" at path ") {
        Some((cause, _)) => std::io::Error::new(e.kind(), cause.to_string()),
        None => e,
    }
}

/// Create the missing directories above `path`, mode 0700: they are made for
/// a file that holds values.
pub fn create_private_dirs(path: &Path) -> Result<()> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else { return Ok(()) };
    if parent.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(parent).with_context(|| format!("could not create the directory {}", parent.display()))
}

/// The most escort reads of a local file (a .env file, a manifest).
pub const MAX_READ: u64 = 64 << 20;

/// Read a local file a checkout may hold (.env sources and targets, fallbacks,
/// manifests), bounded (docs/security.md): a regular file only, at most
/// `MAX_READ` bytes. A committed `.env -> /dev/zero` would read forever and a
/// FIFO would hang, so devices, FIFOs, sockets and directories are refused,
/// and a symbolic link is followed only to a file inside the working
/// directory. Opened non-blocking, so a FIFO put there after the check is
/// refused too, not waited on. A missing file is an `io::ErrorKind::NotFound`
/// in the chain, as callers that treat it as absent expect. `what` names the
/// file's role in errors ("the manifest "), before its path.
pub fn read_bounded(path: &Path, what: &str) -> Result<crate::wiped::Wiped<Vec<u8>>> {
    use std::io::Read;
    let could_not = || format!("could not read {what}{}", path.display());
    let link = std::fs::symlink_metadata(path).with_context(could_not)?;
    if link.file_type().is_symlink() {
        let real = std::fs::canonicalize(path).with_context(could_not)?;
        let here = std::env::current_dir().and_then(std::fs::canonicalize).with_context(could_not)?;
        if !real.starts_with(&here) {
            return Err(crate::error::usage(format!(
                "{} is a symbolic link to {}, outside the working directory: escort follows a link only to a \
                 file inside the checkout (copy the file in, or run escort where it is)",
                path.display(),
                real.display()
            )));
        }
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NONBLOCK);
    let file = opts.open(path).with_context(could_not)?;
    let meta = file.metadata().with_context(could_not)?;
    if !meta.is_file() {
        return Err(crate::error::usage(format!(
            "{} is not a regular file (a directory, device, FIFO or socket): escort reads only regular files",
            path.display()
        )));
    }
    let too_big = || {
        crate::error::usage(format!("{} is larger than {} MiB: escort reads no more", path.display(), MAX_READ >> 20))
    };
    if meta.len() > MAX_READ {
        return Err(too_big());
    }
    // Sized up front: growing would leave copies of the content in freed memory.
    let mut bytes = crate::wiped::Wiped::new(Vec::with_capacity(meta.len() as usize + 1));
    file.take(MAX_READ + 1).read_to_end(&mut bytes).with_context(could_not)?;
    if bytes.len() as u64 > MAX_READ {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Whether `path` is a regular file only its owner can read or write, holding `bytes`.
fn holds(path: &Path, bytes: &[u8]) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return false };
    #[cfg(unix)]
    if std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o077 != 0 {
        return false;
    }
    meta.is_file()
        && meta.len() == bytes.len() as u64
        && std::fs::read(path).map(crate::wiped::Wiped::new).is_ok_and(|old| old.as_slice() == bytes)
}

/// Append to a file that another program owns (.gitignore), in one write.
pub fn append(path: &Path, bytes: &[u8]) -> Result<()> {
    append_mode(path, bytes, 0o666)
}

/// Append values to a file another program owns ($GITHUB_ENV), in one
/// write; created 0600 when absent, like every file escort puts values in.
pub fn append_private(path: &Path, bytes: &[u8]) -> Result<()> {
    append_mode(path, bytes, 0o600)
}

fn append_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).with_context(|| format!("could not open {}", path.display()))?;
    f.write_all(bytes).and_then(|_| f.flush()).with_context(|| format!("could not write {}", path.display()))
}

/// Where ESC `files` go: `$XDG_RUNTIME_DIR` when set (`runtime`: the user's
/// own directory, emptied when the session ends), else the system temp directory.
pub fn session_dir(runtime: Option<&Path>) -> PathBuf {
    runtime.map_or_else(std::env::temp_dir, Path::to_path_buf)
}

/// A new directory only the user can enter, for ESC `files`.
pub fn private_dir(parent: &Path) -> Result<tempfile::TempDir> {
    private_dir_named(parent, "escort-")
}

const RUN_PREFIX: &str = "escort-run-";

/// The private directory of one `escort run`, removed when it drops. It is
/// named after this process, so that if escort is killed before it can remove
/// it, the next run (`sweep_stale`) does.
pub fn run_dir(parent: &Path) -> Result<tempfile::TempDir> {
    sweep_stale(parent);
    private_dir_named(parent, &format!("{RUN_PREFIX}{}-", std::process::id()))
}

fn private_dir_named(parent: &Path, prefix: &str) -> Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    // Created with the mode, not chmod-ed after: no moment when others can enter.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    builder.tempdir_in(parent).with_context(|| format!("could not create a private directory in {}", parent.display()))
}

/// Remove the directories of `escort run`s that died without cleaning up:
/// ours (same owner, real directories, not links) whose process is gone.
/// Best effort: a directory that cannot be read or removed is left alone.
#[cfg(unix)]
fn sweep_stale(parent: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(RUN_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<libc::pid_t>().ok())
            .filter(|&pid| pid > 0)
        else {
            continue;
        };
        // `DirEntry::metadata` does not follow a link.
        let ours = entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == me);
        if ours && !process_exists(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(not(unix))]
fn sweep_stale(_parent: &Path) {}

#[cfg(unix)]
fn process_exists(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    // EPERM: it exists but belongs to someone else.
    alive || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
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
    #[test]
    #[cfg(unix)]
    fn bounded_reads_take_regular_files_only() {
        use super::read_bounded;
        let dir = tempfile::tempdir().unwrap();
        let kind = |e: anyhow::Error| (crate::error::kind_of(&e), e.to_string());
        // A device, a directory and a FIFO: refused at once, never read or waited on.
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        for path in [std::path::Path::new("/dev/zero"), dir.path(), &fifo] {
            let (k, e) = kind(read_bounded(path, "").err().unwrap());
            assert!(k == crate::error::Kind::Usage && e.contains("not a regular file"), "{}: {e}", path.display());
        }
        // Larger than the bound: refused, whatever its size says.
        let big = dir.path().join("big");
        std::fs::File::create(&big).unwrap().set_len(super::MAX_READ + 1).unwrap();
        assert!(kind(read_bounded(&big, "").err().unwrap()).1.contains("larger than 64 MiB"));
        std::fs::write(dir.path().join("ok"), "A=1\n").unwrap();
        assert_eq!(read_bounded(&dir.path().join("ok"), "").unwrap().as_slice(), b"A=1\n");
        let missing = read_bounded(&dir.path().join("missing"), "").err().unwrap();
        assert!(missing.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some()));
    }

    #[test]
    #[cfg(unix)]
    fn a_private_file_that_holds_the_bytes_is_not_rewritten() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.env");
        assert!(write_atomic(&path, b"A=1\n").unwrap());
        let inode = std::fs::metadata(&path).unwrap().ino();
        assert!(!write_atomic(&path, b"A=1\n").unwrap(), "the same bytes again");
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode, "not replaced");
        assert!(write_atomic(&path, b"A=2\n").unwrap());
        // The same bytes in a file others may read: replaced by a private one.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(write_atomic(&path, b"A=2\n").unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

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

    #[cfg(unix)]
    #[test]
    fn a_failed_write_names_the_file_not_the_temp_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
        let path = locked.join("prod.env");
        // Root writes anywhere: nothing to see there.
        if let Err(err) = write_atomic(&path, b"A=1\n") {
            let shown = format!("{err:#}");
            assert!(shown.starts_with(&format!("could not write {}: ", path.display())), "{shown}");
            assert!(!shown.contains(".escort-"), "{shown}");
        }
        let missing = dir.path().join("no/such/dir/prod.env");
        let shown = format!("{:#}", write_atomic(&missing, b"A=1\n").unwrap_err());
        assert!(!shown.contains(".escort-") && shown.contains("could not write"), "{shown}");
    }

    #[cfg(unix)]
    #[test]
    fn private_dirs_are_made_0700() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        create_private_dirs(&dir.path().join("a/b/c.env")).unwrap();
        for d in ["a", "a/b"] {
            let mode = std::fs::metadata(dir.path().join(d)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{d}");
        }
        create_private_dirs(Path::new("c.env")).unwrap();
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

    #[cfg(unix)]
    #[test]
    fn f04_only_regular_files_are_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.env");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.env");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for path in [link.as_path(), fifo.as_path(), Path::new("/dev/null")] {
            let err = write_atomic(path, b"f04-canary").unwrap_err();
            assert_eq!(crate::error::kind_of(&err), crate::error::Kind::Usage, "{err}");
            assert!(err.to_string().contains("escort replaces only regular files"), "{err}");
        }
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "old");
    }

    #[cfg(unix)]
    #[test]
    fn f17_private_appends_create_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("github_env");
        append_private(&path, b"A<<x\n1\nx\n").unwrap();
        append_private(&path, b"B<<x\n2\nx\n").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "A<<x\n1\nx\nB<<x\n2\nx\n");
    }

    #[test]
    fn materialized_files_hold_the_content_and_hide_it() {
        let parent = tempfile::tempdir().unwrap();
        let dir = private_dir(parent.path()).unwrap();
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

    #[cfg(unix)]
    #[test]
    fn f12_stale_run_directories_are_swept_and_live_ones_kept() {
        let parent = tempfile::tempdir().unwrap();
        // A process that has exited, and one that is alive (us).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = parent.path().join(format!("{RUN_PREFIX}{dead}-abc"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join("CERT"), "stale-canary").unwrap();
        let live = parent.path().join(format!("{RUN_PREFIX}{}-abc", std::process::id()));
        std::fs::create_dir(&live).unwrap();
        let other = parent.path().join("escort-keep");
        std::fs::create_dir(&other).unwrap();
        let mine = run_dir(parent.path()).unwrap();
        assert!(!stale.exists(), "the dead run's directory is swept");
        assert!(live.exists() && other.exists() && mine.path().exists());
    }
}
