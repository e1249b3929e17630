//! tests/specs holds copies of the official API descriptions the fakes and
//! Prism use, so the suite runs from the repository alone. Where the shared
//! originals are beside the repository (as in the project's CI), the copies
//! must still be identical to them.

use std::path::Path;

#[test]
fn vendored_specs_match_the_shared_originals() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = repo.join("../shared/specs");
    for name in ["esc.openapi.yaml", "github-secrets.openapi.json", "github-variables.openapi.json"] {
        let ours = std::fs::read(repo.join("tests/specs").join(name)).expect("vendored spec");
        assert!(!ours.is_empty(), "{name} is empty");
        if shared.is_dir() {
            let theirs = std::fs::read(shared.join(name)).expect("shared spec");
            assert!(ours == theirs, "tests/specs/{name} differs from ../shared/specs/{name}: copy it again");
        }
    }
}
