//! `escort init`: start a project. Writes a starter `escort.toml`, the
//! `.env.example` that `escort template` makes from it, a workflow that runs
//! the smoke check through the action, a devcontainer for Codespaces (with
//! escort's Dev Container Feature), and the `.gitignore` entries that keep
//! `.env` files out of git. The starter texts are in `templates/`.
//!
//! An `escort.toml` with `[sync.NAME]` routes is no starter: it is kept, the
//! rest is made from it, and a second workflow reports the routes' drift
//! every day (README, "escort init").
//!
//! The workflow and the devcontainer go to the git root (where GitHub and
//! Codespaces look for them), told where the project is when `--dir` names a
//! directory below it.
//!
//! Nothing is overwritten without `--force`: existing files are named and
//! nothing is written (exit 2). Two files hold the user's own settings and are
//! never replaced, even with `--force`: an existing devcontainer.json (the
//! line to add is printed instead) and `.gitignore` (missing entries are
//! appended).

use crate::cli::InitArgs;
use crate::error::ExitStatus;
use crate::{error, files, manifest, ui};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

const MANIFEST: &str = include_str!("../../templates/escort.toml");
const WORKFLOW: &str = include_str!("../../templates/secrets-check.yml");
const DRIFT_WORKFLOW: &str = include_str!("../../templates/secrets-drift.yml");
const DEVCONTAINER: &str = include_str!("../../templates/devcontainer.json");

const MANIFEST_PATH: &str = "escort.toml";
const EXAMPLE_PATH: &str = ".env.example";
const WORKFLOW_PATH: &str = ".github/workflows/secrets-check.yml";
const DRIFT_PATH: &str = ".github/workflows/secrets-drift.yml";
const DEVCONTAINER_PATH: &str = ".devcontainer/devcontainer.json";
const GITIGNORE_PATH: &str = ".gitignore";
/// Where escort is published, when the package does not say.
const PLACEHOLDER: &str = "OWNER/escort";

/// `.env` files hold real values; `.env.example` holds none and is committed.
const IGNORED: [&str; 2] = [".env", ".env.*"];
const KEPT: &str = "!.env.example";

pub fn init(args: InitArgs) -> Result<ExitStatus> {
    let dir = args.dir.as_path();
    if !dir.is_dir() {
        return Err(error::usage(format!("--dir {}: no such directory", dir.display())));
    }
    let at = |rel: &str| if dir == Path::new(".") { PathBuf::from(rel) } else { dir.join(rel) };
    let root = git_root(dir)?;
    let at_root = |rel: &str| if root == Path::new(".") { PathBuf::from(rel) } else { root.join(rel) };
    let project = project_path(dir, &root)?;
    let workflow = at_root(WORKFLOW_PATH);
    let manifest_path = at(MANIFEST_PATH);
    // A manifest that does not parse is treated as any other file in the way.
    let routed = manifest::load(&manifest_path).ok().filter(|m| !m.routes.is_empty());
    let drift = routed.as_ref().map(|_| at_root(DRIFT_PATH));

    let replaced: Vec<PathBuf> = [
        (routed.is_none()).then(|| manifest_path.clone()),
        Some(at(EXAMPLE_PATH)),
        Some(workflow.clone()),
        drift.clone(),
    ]
    .into_iter()
    .flatten()
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
    // A file that already holds exactly this text is left untouched (a second
    // `--force` run writes nothing).
    let put = |path: &Path, text: &str| -> Result<()> {
        if !write(path, text)? {
            ui::note(&format!("{} is unchanged", path.display()));
        } else if replaced.iter().any(|p| p == path) {
            ui::note(&format!("overwrote {}", path.display()));
        } else {
            ui::note(&format!("created {}", path.display()));
        }
        Ok(())
    };
    let action = Action::of(env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_VERSION"));

    let mut starter = match routed {
        Some(manifest) => {
            ui::note(&format!("kept {}: it has routes", manifest_path.display()));
            if manifest.ledger.is_none() {
                ui::note(&ledger_proposal(&manifest));
            }
            manifest
        }
        None => {
            put(&manifest_path, MANIFEST)?;
            manifest::load(&manifest_path)?
        }
    };
    // Made by `escort template`'s own code from the manifest, and headed as
    // `escort template` run in the project would head it.
    starter.path = PathBuf::from(MANIFEST_PATH);
    let example = at(EXAMPLE_PATH);
    put(&example, &crate::example::render(&starter))?;
    put(&workflow, &workflow_text(WORKFLOW, &action.uses, &project))?;
    let mut naming_escort = vec![workflow.display().to_string()];

    if let Some(drift) = &drift {
        put(drift, &workflow_text(DRIFT_WORKFLOW, &action.uses, &project))?;
        naming_escort.push(drift.display().to_string());
    }

    let devcontainer = at_root(DEVCONTAINER_PATH);
    let options = feature_options(&project);
    if devcontainer.symlink_metadata().is_ok() {
        advise_devcontainer(&devcontainer, &action.feature, &options)?;
    } else {
        let text =
            DEVCONTAINER.replace("@ESCORT_FEATURE@", &action.feature).replace("@ESCORT_FEATURE_OPTIONS@", &options);
        put(&devcontainer, &text)?;
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
            "replace {PLACEHOLDER} in {} with the GitHub repository escort comes from (in lower case in ghcr.io/...)",
            naming_escort.join(" and ")
        ));
    }
    ui::note(
        "next: edit escort.toml; for Actions set the repository variables ESC_ENV and PULUMI_ORG (OIDC; or \
         the secret ESC_TOKEN instead), for Codespaces the secrets ESC_ENV and ESC_TOKEN \
         (escort set github:OWNER/REPO ESC_TOKEN --app codespaces)",
    );
    Ok(ExitStatus::Success)
}

/// Create the file's directory, then write it atomically (mode 0600); whether
/// it was written (not when it already held `text`).
fn write(path: &Path, text: &str) -> Result<bool> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("could not create {}", parent.display()))?;
    }
    files::write_atomic(path, text.as_bytes())
}

/// The git root above `dir` (the nearest directory with a `.git`), as a path
/// to show (relative when `dir` is); `dir` itself outside a git repository.
fn git_root(dir: &Path) -> Result<PathBuf> {
    let has_git = |d: &Path| d.join(".git").symlink_metadata().is_ok();
    let lexical = dir.ancestors().map(|d| if d.as_os_str().is_empty() { Path::new(".") } else { d });
    if let Some(found) = lexical.clone().find(|d| has_git(d)) {
        return Ok(found.to_path_buf());
    }
    let outermost = lexical.last().unwrap_or(dir);
    let absolute = outermost.canonicalize().with_context(|| format!("could not resolve {}", outermost.display()))?;
    Ok(absolute.ancestors().skip(1).find(|d| has_git(d)).map_or_else(|| dir.to_path_buf(), Path::to_path_buf))
}

/// Where `dir` is below `root`, `/`-separated; empty when they are the same.
fn project_path(dir: &Path, root: &Path) -> Result<String> {
    let resolve = |p: &Path| p.canonicalize().with_context(|| format!("could not resolve {}", p.display()));
    let (dir, root) = (resolve(dir)?, resolve(root)?);
    let below = dir.strip_prefix(&root).unwrap_or(Path::new(""));
    let parts: Vec<String> = below.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    Ok(parts.join("/"))
}

/// A workflow for a project at `project` below the git root: its run steps
/// work there, and the action checks its manifest.
fn workflow_text(template: &str, uses: &str, project: &str) -> String {
    let (defaults, manifest) = if project.is_empty() {
        (String::new(), MANIFEST_PATH.to_string())
    } else {
        let quoted = yaml_string(project);
        (
            format!("    defaults:\n      run:\n        working-directory: {quoted}\n"),
            yaml_string(&format!("{project}/{MANIFEST_PATH}")),
        )
    };
    template.replace("@ESCORT_ACTION@", uses).replace("@DEFAULTS@", &defaults).replace("@MANIFEST@", &manifest)
}

/// A YAML scalar for any path: a JSON string is a YAML double-quoted one.
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// The Feature's options for a project at `project` below the workspace.
fn feature_options(project: &str) -> String {
    if project.is_empty() { "{}".to_string() } else { serde_json::json!({ "directory": project }).to_string() }
}

/// An existing devcontainer.json is JSON with comments, the user's own: say
/// what to add rather than edit it. On stdout, as init's one result to act on.
fn advise_devcontainer(path: &Path, feature: &str, options: &str) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
    if text.contains("/escort/escort:") || text.contains("escort ") {
        ui::note(&format!("left {} as is: it already runs escort", path.display()));
    } else {
        crate::output::line(format!(
            "{} exists and was left as is. To install escort and merge ESC into .env at each start of a \
             Codespace, add the Feature to its \"features\"\n(with ESC_ENV, ESC_TOKEN as Codespaces secrets):\n  \
             \"{feature}\": {options}",
            path.display()
        ))?;
    }
    Ok(())
}

/// Where the action and the Feature are published: `OWNER/NAME` from the
/// package's GitHub repository URL, else a placeholder the user must replace.
/// Both by the moving major tag the release workflow keeps on the newest
/// release (`@v1`, `:1`).
struct Action {
    /// `OWNER/NAME@vMAJOR`, for a workflow's `uses:`.
    uses: String,
    /// `ghcr.io/OWNER/NAME/escort:MAJOR`, for a devcontainer's `features`.
    feature: String,
    known: bool,
}

impl Action {
    fn of(repository: &str, version: &str) -> Action {
        let repo = repository
            .trim()
            .strip_prefix("https://github.com/")
            .map(|r| r.trim_end_matches('/').trim_end_matches(".git"))
            .filter(|r| r.split('/').count() == 2 && !r.split('/').any(str::is_empty));
        let major = version.split('.').next().unwrap_or(version);
        match repo {
            // Container registry names are lower case.
            Some(repo) => Action {
                uses: format!("{repo}@v{major}"),
                feature: format!("ghcr.io/{}/escort:{major}", repo.to_lowercase()),
                known: true,
            },
            None => Action {
                uses: format!("{PLACEHOLDER}@v{major}"),
                feature: format!("ghcr.io/{PLACEHOLDER}/escort:{major}"),
                known: false,
            },
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

/// What `init` proposes to a manifest with routes and no ledger (README, "The
/// ledger"): an environment beside the first route's ESC source.
fn ledger_proposal(manifest: &manifest::Manifest) -> String {
    let place = manifest.routes.iter().find_map(|r| match &r.from {
        crate::source::SourceSpec::Esc(Some(env)) => {
            Some(format!("{}{}", env.org.as_deref().map(|o| format!("{o}/")).unwrap_or_default(), env.project))
        }
        _ => None,
    });
    format!(
        "add `ledger = \"esc:{}/escort-ledger\"` at the top of {} so that `escort status` can tell whether \
         GitHub and Fly secrets hold the source's current value (README, \"The ledger\")",
        place.unwrap_or_else(|| "ORG/PROJECT".to_string()),
        MANIFEST_PATH
    )
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
        let a = Action::of("https://github.com/Acme/escort", "1.2.3");
        assert!(a.known);
        assert_eq!(a.uses, "Acme/escort@v1");
        assert_eq!(a.feature, "ghcr.io/acme/escort/escort:1", "OCI names are lower case");
        assert_eq!(Action::of("https://github.com/acme/escort.git/", "1.2.3").uses, "acme/escort@v1");
        for unknown in ["", "https://gitlab.com/acme/escort", "https://github.com/acme", "https://github.com/a/b/c"] {
            let a = Action::of(unknown, "0.1.0");
            assert!(!a.known, "{unknown}");
            assert_eq!(a.uses, "OWNER/escort@v0");
            assert_eq!(a.feature, "ghcr.io/OWNER/escort/escort:0");
        }
    }
}
