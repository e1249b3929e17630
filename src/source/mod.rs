//! Where values come from: `esc[:ENV]`, `env`, `dotenv:PATH` and `github-secrets`.
//!
//! A spec is parsed once, where the user gave it (a flag, a manifest), into a
//! `SourceSpec` (`spec.rs`); `open` makes the source from it. Adding a kind of
//! source is one file here plus one arm in each of `SourceSpec`'s `FromStr`
//! and `open`. `common.rs` holds `trait Source`, which every kind implements.

mod common;
pub mod dotenv;
pub mod env;
pub mod esc;
pub mod fallback;
pub mod github_secrets;
mod spec;

pub use common::{Changed, Source};
pub use spec::{SourceSpec, open};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        for (text, shown) in [
            ("esc", "esc"),
            ("esc:acme/app/dev", "esc:acme/app/dev"),
            ("env", "env"),
            ("dotenv:.env.local", "dotenv:.env.local"),
            ("github-secrets", "github-secrets"),
            (" dotenv:a b ", "dotenv:a b"),
        ] {
            assert_eq!(text.parse::<SourceSpec>().unwrap().to_string(), shown, "{text}");
        }
        for bad in ["", "vault", "env:x", "dotenv:", "esc:", "esc:a/b/c/d", "dotenv", "ESC"] {
            assert!(bad.parse::<SourceSpec>().is_err(), "{bad}");
        }
    }
}
