//! tests/specs holds copies of the official API descriptions the fakes and
//! Prism use, so the suite runs from the repository alone. Where the shared
//! originals are beside the repository (always in the project's CI, where a
//! missing copy fails this test), the copies must still be identical to them.

use std::path::{Path, PathBuf};

/// `../shared/specs` beside this checkout or, for a git worktree, beside its
/// main checkout.
fn shared_specs(repo: &Path) -> Option<PathBuf> {
    let mut candidates = vec![repo.join("../shared/specs")];
    // A worktree's `.git` is a file: `gitdir: MAIN/.git/worktrees/NAME`.
    if let Ok(link) = std::fs::read_to_string(repo.join(".git"))
        && let Some(gitdir) = link.trim().strip_prefix("gitdir: ")
        && let Some(main) = Path::new(gitdir).ancestors().nth(3)
    {
        candidates.push(main.join("../shared/specs"));
    }
    candidates.into_iter().find(|c| c.is_dir())
}

#[test]
fn vendored_specs_match_the_shared_originals() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = shared_specs(repo);
    assert!(
        shared.is_some() || std::env::var_os("CI").is_none(),
        "../shared/specs is missing (it is always there in CI)"
    );
    for name in ["esc.openapi.yaml", "github-secrets.openapi.json", "github-variables.openapi.json"] {
        let ours = std::fs::read(repo.join("tests/specs").join(name)).expect("vendored spec");
        assert!(!ours.is_empty(), "{name} is empty");
        if let Some(shared) = &shared {
            let theirs = std::fs::read(shared.join(name)).expect("shared spec");
            assert!(ours == theirs, "tests/specs/{name} differs from {}: copy it again", shared.join(name).display());
        }
    }
}
