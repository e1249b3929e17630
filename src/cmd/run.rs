//! `escort run -- CMD`: run a command with the variables set and its output
//! redacted; exit with its code.

use crate::cli::RunArgs;
use crate::error::ExitStatus;
use crate::redact::Redactor;
use crate::settings::Context;
use crate::wiped::Wiped;
use crate::{error, files, secret};
use anyhow::{Context as _, Result};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::watch;

/// How long a held-back tail (the start of what may be a secret) waits for
/// more bytes before it is shown (docs/run.md): long enough that a
/// value written in one write arrives whole, short enough that a prompt shows.
const IDLE: Duration = Duration::from_millis(200);

/// After the command exits, how long its pipes may stay quiet before escort
/// stops reading them (a background process may hold them open for ever),
/// and how much more escort reads at most: what a full pipe holds.
const DRAIN_QUIET: Duration = Duration::from_millis(50);
const DRAIN_MAX: usize = 1 << 20;

/// The child's pipes are widened to this (Linux allows 1 MiB unprivileged),
/// and read that much at a time: a 64 KiB pipe costs a write to the output,
/// and so a round trip to the thread that writes it, per 64 KiB relayed.
const READ_SIZE: usize = 1 << 20;

pub async fn run(args: RunArgs, ctx: &Context) -> Result<ExitStatus> {
    let vars = super::export::exportable(&args.source, ctx).await?.vars;
    // Files live only as long as the command: the directory goes when `dir` drops.
    let dir = files::run_dir(&files::session_dir(ctx.settings.runtime_dir.as_deref()))?;
    let vars = files::materialize(vars, dir.path())?;

    // The values, and the token escort used (the child inherits it).
    let registered = secret::registered();
    let redactor = (!args.no_redact).then(|| {
        let texts = vars
            .iter()
            .flat_map(|v| v.sensitive(false))
            .chain(registered.iter())
            // A file's trailing newline is kept in the output, not swallowed by `***`.
            .flat_map(|s| std::iter::once(s.expose().trim_end_matches(['\n', '\r'])).chain(s.expose().lines()))
            .map(str::as_bytes);
        Redactor::new(texts, false)
    });

    let (program, rest) = args.command.split_first().expect("clap requires a command");
    // `Command` copies each value into its own strings (and the `NAME=value`
    // array it hands to exec): freed, not zeroed. Every block freed while it
    // is built, spawned and dropped is zeroed, so no copy outlives the spawn.
    let wiping = crate::alloc::WipeFrees::start();
    let spawned = {
        let mut cmd = Command::new(program);
        cmd.args(rest).envs(vars.iter().map(|v| (&v.name, v.value.expose()))).stdin(Stdio::inherit());
        if redactor.is_some() {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        #[cfg(target_os = "linux")]
        die_with_escort(&mut cmd);
        cmd.spawn()
    };
    drop(wiping);
    let mut child = spawned.map_err(|e| error::usage(format!("could not start `{program}`: {e}")))?;
    drop(vars);

    let (exited_tx, exited) = watch::channel(false);
    let pumps = redactor.map(|redactor| {
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        #[cfg(target_os = "linux")]
        {
            widen_pipe(&out);
            widen_pipe(&err);
        }
        (
            tokio::spawn(pump(out, tokio::io::stdout(), redactor.clone(), exited.clone())),
            tokio::spawn(pump(err, tokio::io::stderr(), redactor, exited)),
        )
    });

    let status = wait_forwarding_signals(&mut child).await?;
    let _ = exited_tx.send(true);
    if let Some((out, err)) = pumps {
        out.await.context("the output relay failed")??;
        err.await.context("the output relay failed")??;
    }
    drop(dir);
    Ok(ExitStatus::Child(exit_code(status)))
}

/// Copy a child's stream to ours through the redactor, until the stream ends
/// or, once the child has exited, goes quiet. Our side failing (a reader that
/// closed the pipe early) is not an error: the output is discarded from then
/// on, so that the child is not blocked and its exit code is still ours.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    to: impl AsyncWrite + Unpin,
    mut redactor: Redactor,
    mut exited: watch::Receiver<bool>,
) -> Result<()> {
    let mut buf = Wiped::new(vec![0u8; READ_SIZE]);
    let mut out = Vec::with_capacity(READ_SIZE);
    let mut to = Relay { to, broken: false };
    let mut child_gone = false;
    let mut drained = 0;
    while drained < DRAIN_MAX {
        let wait = match (child_gone, redactor.is_holding()) {
            (true, _) => Some(DRAIN_QUIET),
            (false, true) => Some(IDLE),
            (false, false) => None,
        };
        let read = tokio::select! {
            r = exited.wait_for(|&gone| gone), if !child_gone => {
                child_gone = r.is_ok();
                continue;
            }
            r = read_within(&mut from, &mut buf, wait) => r?,
        };
        out.clear();
        match read {
            Some(0) => break,
            Some(n) => {
                drained += if child_gone { n } else { 0 };
                redactor.push(&buf[..n], &mut out);
            }
            None if child_gone => break,
            // Show a prompt the child waits behind (docs/run.md).
            None => redactor.flush_idle(&mut out),
        }
        to.send(&out).await;
    }
    out.clear();
    redactor.finish(&mut out);
    to.send(&out).await;
    to.flush().await;
    Ok(())
}

/// A read, or `None` when nothing came within `wait`.
async fn read_within(
    from: &mut (impl AsyncRead + Unpin),
    buf: &mut [u8],
    wait: Option<Duration>,
) -> Result<Option<usize>> {
    Ok(match wait {
        Some(wait) => match tokio::time::timeout(wait, from.read(buf)).await {
            Ok(n) => Some(n?),
            Err(_) => None,
        },
        None => Some(from.read(buf).await?),
    })
}

/// Our stdout or stderr; once a write fails, the rest is discarded.
struct Relay<W> {
    to: W,
    broken: bool,
}

impl<W: AsyncWrite + Unpin> Relay<W> {
    async fn send(&mut self, bytes: &[u8]) {
        if !self.broken && !bytes.is_empty() {
            // Flushed each time: a prompt must not wait in a buffer.
            self.broken = self.to.write_all(bytes).await.is_err() || self.to.flush().await.is_err();
        }
    }

    async fn flush(&mut self) {
        if !self.broken {
            self.broken = self.to.flush().await.is_err();
        }
    }
}

/// Best effort: a pipe the kernel will not widen still works.
#[cfg(target_os = "linux")]
fn widen_pipe(pipe: &impl std::os::fd::AsRawFd) {
    // SAFETY: F_SETPIPE_SZ on a pipe we own only changes its capacity.
    unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, READ_SIZE as libc::c_int) };
}

/// Ask the kernel to stop the child (SIGTERM) if escort dies, even by SIGKILL,
/// so that it does not run on with the secrets and no redaction.
#[cfg(target_os = "linux")]
fn die_with_escort(cmd: &mut Command) {
    let escort = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec the closure makes only async-signal-safe
    // calls (prctl, getppid) and does not allocate.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // escort died before the request was made: nobody will send it.
            if libc::getppid() != escort {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// Wait for the child. Ctrl-C reaches it from the terminal directly, so escort
/// only has to stay alive to clean up; SIGTERM and SIGHUP sent to escort alone
/// are passed on.
#[cfg(unix)]
async fn wait_forwarding_signals(child: &mut tokio::process::Child) -> Result<std::process::ExitStatus> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let pid = child.id();
    loop {
        let forward = tokio::select! {
            status = child.wait() => return Ok(status?),
            _ = int.recv() => None,
            _ = term.recv() => Some(libc::SIGTERM),
            _ = hup.recv() => Some(libc::SIGHUP),
        };
        if let (Some(sig), Some(pid)) = (forward, pid) {
            // SAFETY: kill(2) with a pid we spawned and a valid signal number.
            unsafe { libc::kill(pid as libc::pid_t, sig) };
        }
    }
}

#[cfg(not(unix))]
async fn wait_forwarding_signals(child: &mut tokio::process::Child) -> Result<std::process::ExitStatus> {
    Ok(child.wait().await?)
}

fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return code as u8;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128u8.wrapping_add(sig as u8);
        }
    }
    1
}
