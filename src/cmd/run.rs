//! `escort run -- CMD`: run a command with the variables set and its output
//! redacted; exit with its code.

use crate::cli::RunArgs;
use crate::error::ExitStatus;
use crate::redact::Redactor;
use crate::settings::Context;
use crate::{error, files, secret};
use anyhow::{Context as _, Result};
use std::process::Stdio;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::Command;

pub async fn run(args: RunArgs, ctx: &Context) -> Result<ExitStatus> {
    let vars = super::exportable(&args.source, ctx).await?;
    // Files live only as long as the command: the directory goes when `dir` drops.
    let dir = files::private_dir(&std::env::temp_dir())?;
    let vars = files::materialize(vars, dir.path())?;

    // The values, and the token escort used (the child inherits it).
    let registered = secret::registered();
    let redactor = (!args.no_redact).then(|| {
        let texts: Vec<&str> = vars
            .iter()
            .flat_map(|v| v.sensitive(false))
            .chain(registered.iter())
            // A file's trailing newline is kept in the output, not swallowed by `***`.
            .flat_map(|s| std::iter::once(s.expose().trim_end_matches(['\n', '\r'])).chain(s.expose().lines()))
            .collect();
        Redactor::new(texts)
    });

    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let mut cmd = Command::new(program);
    cmd.args(rest).envs(vars.iter().map(|v| (&v.name, v.value.expose()))).stdin(Stdio::inherit());
    if redactor.is_some() {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let mut child = cmd.spawn().map_err(|e| error::usage(format!("could not start `{program}`: {e}")))?;
    drop(vars);

    let pumps = redactor.map(|redactor| {
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        (
            tokio::spawn(pump(out, tokio::io::stdout(), redactor.clone())),
            tokio::spawn(pump(err, tokio::io::stderr(), redactor)),
        )
    });

    let status = wait_forwarding_signals(&mut child).await?;
    if let Some((out, err)) = pumps {
        out.await.context("the output relay failed")??;
        err.await.context("the output relay failed")??;
    }
    drop(dir);
    Ok(ExitStatus::Child(exit_code(status)))
}

/// Copy a child's stream to ours through the redactor.
async fn pump(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin, mut redactor: Redactor) -> Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        let ready = redactor.push(&buf[..n]);
        to.write_all(&ready).await?;
        to.flush().await?;
    }
    to.write_all(&redactor.finish()).await?;
    to.flush().await?;
    Ok(())
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
