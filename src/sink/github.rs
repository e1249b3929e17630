//! The GitHub job (docs/load.md, "In a GitHub job"): masks on stdout first, then `$GITHUB_ENV` and
//! `$GITHUB_OUTPUT` entries as heredocs with a fresh delimiter each.

use crate::ui;
use crate::vars::Var;
use crate::wiped::Wiped;
use crate::{error, files};
use anyhow::Result;
use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

pub struct GithubJob {
    /// `$GITHUB_ENV`, or `None` when variables are not to be exported.
    pub env_file: Option<PathBuf>,
    /// `$GITHUB_OUTPUT`, with `--outputs`.
    pub output_file: Option<PathBuf>,
    /// `--mask all`: mask plain values too.
    pub mask_all: bool,
}

/// The runner refuses to set this one from a file command.
const REFUSED: &[&str] = &["NODE_OPTIONS"];

impl GithubJob {
    /// Masks go to `stdout` (the process's own, which the runner reads), then
    /// the entries to the job's files: none of them when a mask could not go out.
    pub fn export(&self, vars: &[Var], stdout: &mut dyn Write) -> Result<()> {
        stdout_reaches_runner()?;
        let vars: Vec<&Var> = vars
            .iter()
            .filter(|v| {
                let refused = REFUSED.contains(&v.name.as_str());
                if refused {
                    ui::warn(&format!("{}: the runner does not allow setting it from a job; skipped", v.name));
                }
                !refused
            })
            .collect();

        // Every mask goes out, and is flushed, before any line that could carry a value.
        let masks = mask_lines(&vars, self.mask_all);
        stdout.write_all(masks.as_bytes())?;
        stdout.flush()?;

        for v in &vars {
            if v.value.expose().ends_with('\r') {
                ui::warn(&format!(
                    "{}: the value ends with a carriage return, which the runner's file format drops",
                    v.name
                ));
            }
        }
        let entries = heredocs(&vars);
        if let Some(path) = &self.env_file {
            files::append_private(path, entries.as_bytes())?;
        }
        if let Some(path) = &self.output_file {
            files::append_private(path, entries.as_bytes())?;
        }
        Ok(())
    }
}

/// The runner learns the masks from our stdout. When stdout was closed (the
/// Rust runtime then opens `/dev/null` in its place, and writes to a closed
/// descriptor would "succeed" too), no mask would reach it: refuse before
/// anything is exported.
fn stdout_reaches_runner() -> Result<()> {
    let unreachable =
        || error::usage("stdout is closed or /dev/null, so no mask can reach the runner: nothing was exported");
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let fd = std::io::stdout().as_fd().try_clone_to_owned().map_err(|_| unreachable())?;
        let meta = std::fs::File::from(fd).metadata().map_err(|_| unreachable())?;
        let null = std::fs::metadata("/dev/null").ok();
        if null.is_some_and(|n| n.rdev() == meta.rdev() && meta.file_type() == n.file_type()) {
            return Err(unreachable());
        }
    }
    Ok(())
}

/// `::add-mask::` lines for each sensitive text, each of its lines, once each.
fn mask_lines<'a>(vars: &[&'a Var], all: bool) -> Wiped<String> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = Wiped::new(String::new());
    let mut add = |text: &'a str, out: &mut Wiped<String>| {
        // The runner refuses to mask blank text.
        if !text.trim().is_empty() && seen.insert(text) {
            out.push_str("::add-mask::");
            ui::push_data(out, text);
            out.push('\n');
        }
    };
    for v in vars {
        for s in v.sensitive(all) {
            let text = s.expose();
            if text.trim().is_empty() && v.secret {
                ui::warn(&format!("{}: a blank secret cannot be masked; exported unmasked", v.name));
            }
            add(text, &mut out);
            if text.contains(['\n', '\r']) {
                for line in text.split('\n') {
                    add(line.strip_suffix('\r').unwrap_or(line), &mut out);
                }
            }
        }
    }
    out
}

/// `NAME<<DELIM` entries; the delimiter is random per entry and checked
/// against the value, so no value can end its own heredoc.
fn heredocs(vars: &[&Var]) -> Wiped<String> {
    let mut out = Wiped::new(String::new());
    for v in vars {
        let value = v.value.expose();
        let delim = loop {
            let d = format!("ghadelimiter_{:032x}", rand::random::<u128>());
            if !value.contains(&d) {
                break d;
            }
        };
        out.push_str(&v.name);
        out.push_str("<<");
        out.push_str(&delim);
        out.push('\n');
        out.push_str(value);
        out.push('\n');
        out.push_str(&delim);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn masks_cover_values_lines_and_leaves() {
        let mut json = Var::plain("J", r#"{"k":"leafy"}"#);
        json.secret_parts.push(Secret::new("leafy"));
        let vars = [Var::secret("S", "a%b\r\nline2\n"), Var::plain("P", "public"), json, Var::secret("W", "  ")];
        let refs: Vec<&Var> = vars.iter().collect();
        let masks = mask_lines(&refs, false);
        assert_eq!(
            masks.as_str(),
            "::add-mask::a%25b%0D%0Aline2%0A\n::add-mask::a%25b\n::add-mask::line2\n::add-mask::leafy\n"
        );
        let all = mask_lines(&refs, true);
        assert!(all.contains("::add-mask::public\n"));
    }

    #[test]
    fn heredoc_delimiters_are_fresh() {
        let vars = [Var::plain("A", "x"), Var::plain("B", "y")];
        let refs: Vec<&Var> = vars.iter().collect();
        let text = heredocs(&refs);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6);
        assert!(lines[0].starts_with("A<<ghadelimiter_") && lines[2] == &lines[0][3..]);
        assert_ne!(&lines[0][3..], &lines[3][3..]);
    }
}
