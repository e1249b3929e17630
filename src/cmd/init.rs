//! `escort init`: start a project, or bring one up to date. Writes what is
//! missing of: an `escort.toml`, the `.env.example` that `escort template`
//! makes from it, a workflow that runs the smoke check through the action, a
//! devcontainer for Codespaces (with escort's Dev Container Feature), and the
//! `.gitignore` entries that keep `.env` files out of git. The starter texts
//! are in `templates/`.
//!
//! It converges and never loses a line (docs/init.md): a rerun
//! writes nothing and exits 0. `escort.toml` and `.env.example` are the
//! user's once they exist and are never rewritten; an existing `.env.example`
//! (else `.env`'s names, never its values) seeds a new manifest's secrets.
//! The files init generates carry a stamp (a digest of the rest of the text),
//! so `--force` replaces only a generated file nobody has edited since; any
//! other file that differs is kept, and `--diff` shows how.
//!
//! An `escort.toml` with `[sync.NAME]` routes also gets a workflow that
//! reports the routes' drift every day.
//!
//! The workflows and the devcontainer go to the git root (where GitHub and
//! Codespaces look for them), one of each per project directory (`--dir`),
//! named after it.

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
const DOTENV_PATH: &str = ".env";
const WORKFLOWS: &str = ".github/workflows";
const DEVCONTAINERS: &str = ".devcontainer";
const GITIGNORE_PATH: &str = ".gitignore";
/// Where escort is published, when the package does not say.
const PLACEHOLDER: &str = "OWNER/escort";
/// Where the starter manifest's example secrets begin: a seeded manifest
/// has the keys it was seeded with there instead.
const EXAMPLES: &str = "# Examples: replace them with your own.";

/// `.env` files hold real values; `.env.example` holds none and is committed.
/// `.env.development`/`.env.production` are left alone: frameworks (Next.js,
/// Vite) commit them as defaults, and keep local values in the `.local` ones.
const IGNORED: [&str; 3] = [".env", ".env.local", ".env.*.local"];
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
    let action = Action::of(env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_VERSION"));

    // Everything is decided and checked before anything is written: a refusal
    // (a manifest that does not parse, a link in the way) writes nothing.
    let manifest_path = at(MANIFEST_PATH);
    let example = at(EXAMPLE_PATH);
    let (mut starter, seeded) = match manifest_path.symlink_metadata() {
        Ok(_) => {
            let kept = manifest::load(&manifest_path).map_err(|e| {
                error::usage(format!(
                    "{e:#}: init makes the other files from {}; fix it and run init again (nothing was written)",
                    manifest_path.display()
                ))
            })?;
            if !kept.routes.is_empty() && kept.ledger.is_none() {
                ui::note(&ledger_proposal(&kept));
            }
            (kept, None)
        }
        Err(_) => {
            let (text, from) = seed(&example, &at(DOTENV_PATH))?;
            let parsed = manifest::from_toml_bytes(&manifest_path, text.as_bytes())?;
            (parsed, Some((text, from)))
        }
    };
    // Made by `escort template`'s own code from the manifest, and headed as
    // `escort template` run in the project would head it.
    let manifest_shown = std::mem::replace(&mut starter.path, PathBuf::from(MANIFEST_PATH));
    let example_text = crate::example::render(&starter).to_string();

    let suffix = if project.is_empty() { String::new() } else { format!("-{}", slug(&project)) };
    let mut generated = vec![(
        at_root(&format!("{WORKFLOWS}/secrets-check{suffix}.yml")),
        stamp(&workflow_text(WORKFLOW, &action.uses, &project), "#"),
    )];
    if !starter.routes.is_empty() {
        generated.push((
            at_root(&format!("{WORKFLOWS}/secrets-drift{suffix}.yml")),
            stamp(&workflow_text(DRIFT_WORKFLOW, &action.uses, &project), "#"),
        ));
    }
    let devcontainer = at_root(&if project.is_empty() {
        format!("{DEVCONTAINERS}/devcontainer.json")
    } else {
        format!("{DEVCONTAINERS}/{}/devcontainer.json", slug(&project))
    });
    let options = feature_options(&project);
    let devcontainer_text = stamp(&devcontainer_text(&action.feature, &options, &project), "//");

    // What init may write or append to (N12: a .gitignore that is a link would
    // be written outside the checkout). The manifest and the example are only
    // created where nothing is.
    let gitignore = at(GITIGNORE_PATH);
    for path in generated.iter().map(|(p, _)| p).chain([&gitignore]) {
        files::refuse_irregular(path).map_err(|e| error::usage(format!("{e:#} (nothing was written)")))?;
    }
    let example_old = match std::fs::read(&example) {
        Ok(bytes) => Some(crate::wiped::Wiped::new(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("could not read {} (nothing was written)", example.display())),
    };

    let mut naming_escort = Vec::new();
    match seeded {
        Some((text, from)) => {
            create(&manifest_path, &text)?;
            match from {
                Some(from) => ui::note(&format!(
                    "created {} with the {} keys of {} (their values are not read)",
                    manifest_shown.display(),
                    starter.secrets.len(),
                    from.display()
                )),
                None => ui::note(&format!("created {}", manifest_shown.display())),
            }
        }
        None if starter.routes.is_empty() => ui::note(&format!("kept {}", manifest_shown.display())),
        None => ui::note(&format!("kept {}: it has routes", manifest_shown.display())),
    }
    match example_old {
        Some(old) if old.as_slice() == example_text.as_bytes() => {
            ui::note(&format!("{} is unchanged", example.display()))
        }
        // The user's, maybe edited by hand: never rewritten, and never shown (it may hold values).
        Some(_) => ui::note(&format!(
            "kept {}: it differs from what `escort template` makes of the manifest \
             (`escort template --output {}` rewrites it)",
            example.display(),
            EXAMPLE_PATH
        )),
        None => {
            create(&example, &example_text)?;
            ui::note(&format!("created {}", example.display()));
        }
    }
    // The files that now hold init's text, placeholder included.
    for (path, text) in &generated {
        if converge(path, text, &args)? {
            naming_escort.push(path.display().to_string());
        }
    }
    if has_foreign(&devcontainer, "//") {
        advise_devcontainer(&devcontainer, &action.feature, &options)?;
    } else if converge(&devcontainer, &devcontainer_text, &args)? {
        naming_escort.push(devcontainer.display().to_string());
    }

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

    if !action.known && !naming_escort.is_empty() {
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

/// The text of a new manifest: the starter's, its example secrets replaced by
/// the keys of `.env.example`, else of `.env` (names only), when there is one;
/// and which file gave them.
fn seed(example: &Path, dotenv: &Path) -> Result<(String, Option<PathBuf>)> {
    let Some(from) = [example, dotenv].into_iter().find(|p| p.is_file()) else {
        return Ok((MANIFEST.to_string(), None));
    };
    // Only the names are kept; the values are wiped when the entries drop.
    let names: Vec<String> = crate::dotenv::read(from)?.into_iter().map(|(name, _)| name).collect();
    if names.is_empty() {
        return Ok((MANIFEST.to_string(), None));
    }
    let head = MANIFEST.split(EXAMPLES).next().unwrap_or(MANIFEST);
    let mut text = format!(
        "{head}# The keys of {} when escort init ran: each is required and secret unless it says\n\
         # `required = false` or `secret = false`. Give each a group, a description, rules.\n",
        from.file_name().map_or_else(|| from.display().to_string(), |n| n.to_string_lossy().into_owned())
    );
    for name in &names {
        text.push_str(&format!("\n[secrets.{}]\n", toml_key(name)));
    }
    Ok((text, Some(from.to_path_buf())))
}

/// A TOML key for a variable name: bare when it can be.
fn toml_key(name: &str) -> String {
    let bare = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { name.to_string() } else { serde_json::to_string(name).expect("a string serializes") }
}

/// A file's name made from a project path: `services/api` -> `services-api`.
fn slug(project: &str) -> String {
    let s: String =
        project.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '.' { c } else { '-' }).collect();
    s.trim_matches(['-', '.']).to_string()
}

/// A new file (its directories made): committed, so 0644.
fn create(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("could not create {}", parent.display()))?;
    }
    files::write_atomic_public(path, text.as_bytes())
}

/// Bring a generated file to `text`: create it when missing; replace it with
/// `--force` only when init wrote it and nobody has edited it since (its
/// stamp matches); otherwise keep it and say so (`--diff` prints how it differs).
/// Whether the file holds `text` after.
fn converge(path: &Path, text: &str, args: &InitArgs) -> Result<bool> {
    let shown = path.display();
    let old = match std::fs::read_to_string(path) {
        Ok(old) => old,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            create(path, text)?;
            ui::note(&format!("created {shown}"));
            return Ok(true);
        }
        Err(e) => return Err(e).with_context(|| format!("could not read {shown}")),
    };
    if old == text {
        ui::note(&format!("{shown} is unchanged"));
        return Ok(true);
    }
    let comment = if path.extension().is_some_and(|e| e == "json") { "//" } else { "#" };
    let why = match unedited(&old, comment) {
        Some(true) if args.force => {
            create(path, text)?;
            ui::note(&format!("replaced {shown}: escort init wrote it and it was not edited since"));
            return Ok(true);
        }
        Some(true) => "an older escort init wrote it; --force replaces it, as it was not edited since",
        Some(false) => "it was edited since escort init wrote it",
        None => "escort init did not write it",
    };
    if args.diff {
        crate::output::line(format!("--- {shown}\n+++ {shown} (what escort init writes)\n{}", diff(&old, text)))?;
        ui::note(&format!("kept {shown}, differs ({why}): the difference is above"));
    } else {
        ui::note(&format!("kept {shown}, differs ({why}): see --diff"));
    }
    Ok(false)
}

/// The stamp init puts on the first line of a file it generates: a digest of
/// the rest, so that a later run can tell an unedited file from an edited one.
fn stamp(text: &str, comment: &str) -> String {
    format!("{comment} {STAMP}{:016x}: init --force replaces this file only while it is unedited\n{text}", digest(text))
}

const STAMP: &str = "escort init digest ";

/// Whether init wrote `text` (it has the stamp) and it is unedited since;
/// `None` when it has no stamp.
fn unedited(text: &str, comment: &str) -> Option<bool> {
    let (first, rest) = text.split_once('\n')?;
    let hex = first.strip_prefix(comment)?.trim_start().strip_prefix(STAMP)?.get(..16)?;
    Some(u64::from_str_radix(hex, 16).ok()? == digest(rest))
}

/// A file that is there and was not written by init (`comment`-style stamp).
fn has_foreign(path: &Path, comment: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| unedited(&text, comment).is_none())
        || path.symlink_metadata().is_ok_and(|m| !m.is_file())
}

/// FNV-1a, 64 bits: to notice an edit, not to resist one.
fn digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// A line diff of `old` to `new`, with three lines of context around each
/// change: ` ` kept, `-` only in `old`, `+` only in `new`.
fn diff(old: &str, new: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // The longest common subsequence, from the end (files of a few hundred lines).
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    const CONTEXT: usize = 3;
    let near = |k: usize| {
        let lo = k.saturating_sub(CONTEXT);
        ops[lo..(k + CONTEXT + 1).min(ops.len())].iter().any(|(op, _)| *op != ' ')
    };
    let mut out = String::new();
    let mut gap = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if near(k) {
            if gap {
                out.push_str("@@\n");
            }
            gap = false;
            out.push(*op);
            out.push_str(line);
            out.push('\n');
        } else {
            gap = !out.is_empty();
        }
    }
    out
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
/// work there, the action checks its manifest, and its name says which
/// project it is for (one workflow per project).
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
    let text =
        template.replace("@ESCORT_ACTION@", uses).replace("@DEFAULTS@", &defaults).replace("@MANIFEST@", &manifest);
    if project.is_empty() {
        return text;
    }
    text.lines()
        .map(|line| match line.strip_prefix("name: ") {
            Some(name) => format!("name: {}\n", yaml_string(&format!("{name} ({project})"))),
            None => format!("{line}\n"),
        })
        .collect()
}

/// A YAML scalar for any path: a JSON string is a YAML double-quoted one.
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// The Feature's options for a project at `project` below the workspace.
fn feature_options(project: &str) -> String {
    if project.is_empty() { "{}".to_string() } else { serde_json::json!({ "directory": project }).to_string() }
}

/// The devcontainer for a project: one per project, named after it.
fn devcontainer_text(feature: &str, options: &str, project: &str) -> String {
    let text = DEVCONTAINER.replace("@ESCORT_FEATURE@", feature).replace("@ESCORT_FEATURE_OPTIONS@", options);
    if project.is_empty() {
        return text;
    }
    text.replacen("\"name\": \"app\"", &format!("\"name\": {}", yaml_string(project)), 1)
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
            .filter(|r| r.split('/').count() == 2 && !r.split('/').any(str::is_empty))
            // Cargo.toml's placeholder until the project's home is settled.
            .filter(|r| !r.starts_with("OWNER/"));
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

/// Whether a .gitignore pattern matches `name` at the top of the tree: `*`
/// and `?` as git reads them, a leading `/` or `**/` anchoring nothing here.
fn glob_matches(pattern: &str, name: &str) -> bool {
    fn at(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => at(&p[1..], n) || (!n.is_empty() && n[0] != b'/' && at(p, &n[1..])),
            (Some(b'?'), Some(c)) if *c != b'/' => at(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => at(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let pattern = pattern.strip_prefix("**/").or_else(|| pattern.strip_prefix('/')).unwrap_or(pattern);
    at(pattern.as_bytes(), name.as_bytes())
}

/// The lines to append so that local `.env` files are ignored and
/// `.env.example` is not. Git obeys the last pattern that matches, so the
/// exception is added when a pattern that hides the example comes after it.
fn ignore_additions(existing: &str) -> Vec<&'static str> {
    let lines: Vec<&str> = existing.lines().map(str::trim).collect();
    let matches = |l: &str, name: &str| !l.starts_with(['#', '!']) && glob_matches(l.trim_end_matches('/'), name);
    // A line already there, or a pattern that covers it (`.env*`), needs no line of ours.
    let mut add: Vec<&'static str> =
        IGNORED.into_iter().filter(|i| !lines.iter().any(|l| l == i || matches(l, i))).collect();
    let hides = |l: &str| matches(l, EXAMPLE_PATH);
    let kept = lines.iter().rposition(|l| *l == KEPT);
    let last_hiding = lines.iter().rposition(|l| hides(l));
    if last_hiding.is_some() && kept < last_hiding {
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

/// What `init` proposes to a manifest with routes and no ledger (docs/routes.md, "The
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
         GitHub and Fly secrets hold the source's current value (docs/routes.md, \"The ledger\")",
        place.unwrap_or_else(|| "ORG/PROJECT".to_string()),
        MANIFEST_PATH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitignore_lines_are_added_once_and_in_an_order_git_obeys() {
        let all = [".env", ".env.local", ".env.*.local"];
        assert_eq!(ignore_additions(""), all);
        assert_eq!(ignore_additions("target/\n"), all);
        assert_eq!(ignore_additions(".env\n.env.local\n.env.*.local\n"), Vec::<&str>::new());
        assert_eq!(ignore_additions("  .env  \n.env.local\n.env.*.local"), Vec::<&str>::new());
        assert_eq!(ignore_additions(".env.local\n.env.*.local\n"), [".env"]);
        // A pattern that hides the example needs the exception after it.
        assert_eq!(ignore_additions(".env\n.env.local\n.env.*.local\n.env.*\n"), ["!.env.example"]);
        assert_eq!(ignore_additions(".env\n.env.local\n.env.*.local\n/.env*\n"), ["!.env.example"]);
        assert_eq!(ignore_additions("!.env.example\n.env*\n.env\n"), ["!.env.example"]);
        assert_eq!(ignore_additions(".env*\n!.env.example\n"), Vec::<&str>::new());
        // Covered by a pattern already there: not repeated.
        assert_eq!(ignore_additions(".env\n.env.*\n!.env.example\n"), Vec::<&str>::new());
        assert_eq!(ignore_additions("*.local\n"), [".env"]);
        // Patterns that do not hide it need nothing.
        assert_eq!(ignore_additions("# .env.example\n.env.production\n"), all);
    }

    #[test]
    fn globs_as_git_reads_them() {
        for (pattern, hit) in [
            (".env*", true),
            (".env.*", true),
            ("*.example", true),
            ("**/.env.*", true),
            ("/.env.ex?mple", true),
            (".env", false),
            (".env.*.local", false),
            (".env.local", false),
        ] {
            assert_eq!(glob_matches(pattern, ".env.example"), hit, "{pattern}");
        }
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
    fn the_stamp_tells_an_unedited_file_from_an_edited_one() {
        let text = stamp("name: x\non: push\n", "#");
        assert!(text.starts_with("# escort init digest "), "{text}");
        assert_eq!(unedited(&text, "#"), Some(true));
        assert_eq!(unedited(&text.replace("push", "pull_request"), "#"), Some(false));
        assert_eq!(unedited(&format!("{text}# mine\n"), "#"), Some(false));
        assert_eq!(unedited("name: x\n", "#"), None);
        assert_eq!(unedited(&text, "//"), None);
        assert_eq!(unedited(&stamp("{}\n", "//"), "//"), Some(true));
    }

    #[test]
    fn the_diff_shows_changed_lines_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\nk\n";
        assert_eq!(diff(old, new), " b\n c\n d\n-e\n+E\n f\n g\n h\n i\n j\n+k\n");
        assert_eq!(
            diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\nx\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"),
            "+0\n 1\n 2\n 3\n@@\n 8\n 9\n 10\n-x\n"
        );
        assert_eq!(diff("same\n", "same\n"), "");
    }

    #[test]
    fn slugs_name_one_file_per_project() {
        assert_eq!(slug("services/api"), "services-api");
        assert_eq!(slug("a b/c"), "a-b-c");
        assert_eq!(toml_key("API_KEY"), "API_KEY");
        assert_eq!(toml_key("a.b"), "\"a.b\"");
    }

    #[test]
    fn the_action_comes_from_the_package_repository() {
        let a = Action::of("https://github.com/Acme/escort", "1.2.3");
        assert!(a.known);
        assert_eq!(a.uses, "Acme/escort@v1");
        assert_eq!(a.feature, "ghcr.io/acme/escort/escort:1", "OCI names are lower case");
        assert_eq!(Action::of("https://github.com/acme/escort.git/", "1.2.3").uses, "acme/escort@v1");
        for unknown in [
            "",
            "https://github.com/OWNER/escort",
            "https://gitlab.com/acme/escort",
            "https://github.com/acme",
            "https://github.com/a/b/c",
        ] {
            let a = Action::of(unknown, "0.1.0");
            assert!(!a.known, "{unknown}");
            assert_eq!(a.uses, "OWNER/escort@v0");
            assert_eq!(a.feature, "ghcr.io/OWNER/escort/escort:0");
        }
    }
}
