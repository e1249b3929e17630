//! The fuzz targets' saved inputs, replayed without nightly: every file of
//! `fuzz/corpus/TARGET/` and `fuzz/regressions/TARGET/` (the crashes
//! `scripts/fuzz.sh` found, kept as regression cases) goes through the same
//! check the target runs (`escort::fuzz`).

use crate::common::repo;

fn replay(target: &str, check: fn(&[u8])) {
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(files) = std::fs::read_dir(repo().join("fuzz").join(dir).join(target)) else { continue };
        for file in files {
            let path = file.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                panic!("{} fails its check", path.display());
            }
            count += 1;
        }
    }
    // The corpus is committed: an empty one would make this test pass vacuously.
    assert!(count > 0, "no saved inputs for {target}");
}

#[test]
fn dotenv_reader() {
    replay("dotenv_reader", escort::fuzz::dotenv_reader);
}

#[test]
fn manifest() {
    replay("manifest", escort::fuzz::manifest);
}

#[test]
fn esc_value() {
    replay("esc_value", escort::fuzz::esc_value);
}

#[test]
fn definition_edit() {
    replay("definition_edit", escort::fuzz::definition_edit);
}

#[test]
fn redactor() {
    replay("redactor", escort::fuzz::redactor);
}

#[test]
fn manifest_routes() {
    replay("manifest_routes", escort::fuzz::manifest_routes);
}

#[test]
fn github_listing() {
    replay("github_listing", escort::fuzz::github_listing);
}
