//! `escort init`: start a project. Writes a starter `escort.toml`, the
//! `.env.example` that `escort template` makes from it, a workflow that runs
//! the smoke check through the action, a devcontainer for Codespaces, and the
//! `.gitignore` entries that keep `.env` files out of git. The starter texts
//! are in `templates/`.
//!
//! Nothing is overwritten without `--force`: existing files are named and
//! nothing is written (exit 2). Two files hold the user's own settings and are
//! never replaced, even with `--force`: an existing devcontainer.json (the
//! line to add is printed instead) and `.gitignore` (missing entries are
//! appended).

use super::template;
use crate::{error, files, manifest, ui};
use anyhow::{Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

const MANIFEST: &str = include_str!("../../templates/escort.toml");
const WORKFLOW: &str = include_str!("../../templates/secrets-check.yml");
const DEVCONTAINER: &str = include_str!("../../templates/devcontainer.json");

const MANIFEST_PATH: &str = "escort.toml";
const EXAMPLE_PATH: &str = ".env.example";
const WORKFLOW_PATH: &str = ".github/workflows/secrets-check.yml";
const DEVCONTAINER_PATH: &str = ".devcontainer/devcontainer.json";
const GITIGNORE_PATH: &str = ".gitignore";

/// What a Codespace runs at each start: `.env` from ESC for the app to read
/// (a postStartCommand runs in a shell of its own, so it cannot `eval` exports
/// into the terminals), then the check, which still reports when ESC is down.
const POST_START: &str = "escort load --format dotenv --output .env; escort check";

/// `.env` files hold real values; `.env.example` holds none and is committed.
const IGNORED: [&str; 2] = [".env", ".env.*"];
const KEPT: &str = "!.env.example";

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Overwrite an existing escort.toml, .env.example and workflow.
    #[arg(long)]
    pub force: bool,

    /// The project's root directory.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

pub fn init(args: InitArgs) -> Result<u8> {
    let dir = args.dir.as_path();
    if !dir.is_dir() {
        return Err(error::usage(format!("--dir {}: no such directory", dir.display())));
    }
    let at = |rel: &str| if dir == Path::new(".") { PathBuf::from(rel) } else { dir.join(rel) };

    let replaced: Vec<PathBuf> = [MANIFEST_PATH, EXAMPLE_PATH, WORKFLOW_PATH]
        .into_iter()
        .map(at)
        .filter(|p| p.symlink_metadata().is_ok())
        .collect();
    if !replaced.is_empty() && !args.force {
        let names: Vec<String> = replaced.iter().map(|p| p.display().to_string()).collect();
        return Err(error::usage(format!(
            "{} already exist{}: nothing was written (pass --force to overwrite)",
            names.join(", "),
            if names.len() == 1 { "s" } else { "" }
        )));
    }
    let written = |path: &Path| {
        let verb = if replaced.iter().any(|p| p == path) { "overwrote" } else { "created" };
        ui::note(&format!("{verb} {}", path.display()));
    };
    let action = Action::of(env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_VERSION"));

    let manifest_path = at(MANIFEST_PATH);
    write(&manifest_path, MANIFEST)?;
    written(&manifest_path);

    // Made by `escort template`'s own code from the manifest just written, and
    // headed as `escort template` run in the project would head it.
    let mut starter = manifest::load(&manifest_path)?;
    starter.path = PathBuf::from(MANIFEST_PATH);
    let example = at(EXAMPLE_PATH);
    write(&example, &template::render(&starter))?;
    written(&example);

    let workflow = at(WORKFLOW_PATH);
    write(&workflow, &WORKFLOW.replace("@ESCORT_ACTION@", &action.uses))?;
    written(&workflow);

    let mut naming_escort = vec![workflow.display().to_string()];

    let devcontainer = at(DEVCONTAINER_PATH);
    if devcontainer.symlink_metadata().is_ok() {
        advise_devcontainer(&devcontainer)?;
    } else {
        let text = DEVCONTAINER.replace("@ESCORT_INSTALL@", &action.install).replace("@ESCORT_POST_START@", POST_START);
        write(&devcontainer, &text)?;
        written(&devcontainer);
        naming_escort.push(devcontainer.display().to_string());
    }

    let gitignore = at(GITIGNORE_PATH);
    let old = match std::fs::read_to_string(&gitignore) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("could not read {}", gitignore.display())),
    };
    let lines = ignore_additions(&old);
    if !lines.is_empty() {
        // Appended, not rewritten: the file is the user's.
        files::append(&gitignore, ignore_block(&old, &lines).as_bytes())?;
        ui::note(&format!("added {} to {}", lines.join(" "), gitignore.display()));
    }

    if !action.known {
        ui::warn(&format!(
            "replace OWNER/escort in {} with the GitHub repository escort comes from",
            naming_escort.join(" and ")
        ));
    }
    ui::note(
        "next: edit escort.toml, then store ESC_ENV and ESC_TOKEN as repository secrets for Actions and \
         Codespaces (escort set github:OWNER/REPO ESC_TOKEN [--app codespaces])",
    );
    Ok(0)
}

/// Create the file's directory, then write it atomically (mode 0600).
fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("could not create {}", parent.display()))?;
    }
    files::write_atomic(path, text.as_bytes())
}

/// An existing devcontainer.json is JSON with comments, the user's own: say
/// what to add rather than edit it. On stdout, as init's one result to act on.
fn advise_devcontainer(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
    if text.contains("escort ") {
        ui::note(&format!("left {} as is: it already runs escort", path.display()));
    } else {
        crate::output::line(format!(
            "{} exists and was left as is. To write .env from ESC at each start of a Codespace, add\n\
             (with escort installed in the container, and ESC_ENV, ESC_TOKEN as Codespaces secrets):\n  \
             \"postStartCommand\": \"{POST_START}\"",
            path.display()
        ))?;
    }
    Ok(())
}

/// Where the action and the source of escort live: `OWNER/NAME` from the
/// package's GitHub repository URL, else a placeholder the user must replace.
struct Action {
    /// `OWNER/NAME@vVERSION`, for a workflow's `uses:`.
    uses: String,
    /// A shell command that installs this version of escort.
    install: String,
    known: bool,
}

impl Action {
    fn of(repository: &str, version: &str) -> Action {
        let repo = repository
            .trim()
            .strip_prefix("https://github.com/")
            .map(|r| r.trim_end_matches('/').trim_end_matches(".git"))
            .filter(|r| r.split('/').count() == 2 && !r.split('/').any(str::is_empty));
        let known = repo.is_some();
        let repo = repo.unwrap_or("OWNER/escort");
        Action {
            uses: format!("{repo}@v{version}"),
            install: format!("cargo install --locked --git https://github.com/{repo} --tag v{version} escort"),
            known,
        }
    }
}

/// The lines to append so that `.env` files are ignored and `.env.example`
/// is not. Git obeys the last pattern that matches, so the exception must
/// come after every pattern that would hide the example.
fn ignore_additions(existing: &str) -> Vec<&'static str> {
    let lines: Vec<&str> = existing.lines().map(str::trim).collect();
    let mut add: Vec<&'static str> = IGNORED.into_iter().filter(|l| !lines.contains(l)).collect();
    let hides = |l: &str| l.starts_with(".env") && l != ".env";
    let kept = lines.iter().rposition(|l| *l == KEPT);
    let last_hiding = lines.iter().rposition(|l| hides(l));
    if add.iter().any(|l| hides(l)) || kept.is_none() || kept < last_hiding {
        add.push(KEPT);
    }
    add
}

/// The text appended to a `.gitignore` that holds `existing`.
fn ignore_block(existing: &str, lines: &[&str]) -> String {
    let mut out = String::new();
    if !existing.is_empty() {
        if !existing.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str("# Local env files hold real values (escort init); the example holds none.\n");
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitignore_lines_are_added_once_and_in_an_order_git_obeys() {
        let all = [".env", ".env.*", "!.env.example"];
        assert_eq!(ignore_additions(""), all);
        assert_eq!(ignore_additions("target/\n"), all);
        assert_eq!(ignore_additions(".env\n.env.*\n!.env.example\n"), Vec::<&str>::new());
        assert_eq!(ignore_additions("  .env  \n.env.*\n!.env.example"), Vec::<&str>::new());
        // Only `.env` missing: it cannot hide the example, so the exception stands.
        assert_eq!(ignore_additions(".env.*\n!.env.example\n"), [".env"]);
        // The exception before a pattern that hides the example does nothing: repeat it after.
        assert_eq!(ignore_additions("!.env.example\n.env.*\n.env\n"), ["!.env.example"]);
        assert_eq!(ignore_additions(".env\n.env.*\n!.env.example\n.env*\n"), ["!.env.example"]);
        // Appending `.env.*` hides it again.
        assert_eq!(ignore_additions(".env\n!.env.example\n"), [".env.*", "!.env.example"]);
    }

    #[test]
    fn gitignore_block_starts_on_a_line_of_its_own() {
        let lines = [".env"];
        let comment = "# Local env files hold real values (escort init); the example holds none.\n";
        assert_eq!(ignore_block("", &lines), format!("{comment}.env\n"));
        assert_eq!(ignore_block("target/\n", &lines), format!("\n{comment}.env\n"));
        assert_eq!(ignore_block("target/", &lines), format!("\n\n{comment}.env\n"));
    }

    #[test]
    fn the_action_comes_from_the_package_repository() {
        let a = Action::of("https://github.com/acme/escort", "1.2.3");
        assert!(a.known);
        assert_eq!(a.uses, "acme/escort@v1.2.3");
        assert_eq!(a.install, "cargo install --locked --git https://github.com/acme/escort --tag v1.2.3 escort");
        assert_eq!(Action::of("https://github.com/acme/escort.git/", "1.2.3").uses, "acme/escort@v1.2.3");
        for unknown in ["", "https://gitlab.com/acme/escort", "https://github.com/acme", "https://github.com/a/b/c"] {
            let a = Action::of(unknown, "0.1.0");
            assert!(!a.known, "{unknown}");
            assert_eq!(a.uses, "OWNER/escort@v0.1.0");
        }
    }
}
