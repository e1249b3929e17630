//! Where `load` puts variables: the GitHub job, or a text document (shell,
//! dotenv, docker, JSON) on stdout or in a file.

pub mod docker;
pub mod dotenv;
pub mod github;
pub mod json;
pub mod shell;

mod render;
pub use render::Render;

use crate::error;
use crate::ui;
use crate::vars::{Var, valid_name};
use anyhow::Result;

/// Refuse names no environment can hold; say how to rename them.
pub fn check_names(vars: &[Var]) -> Result<()> {
    let bad: Vec<&str> = vars.iter().map(|v| v.name.as_str()).filter(|n| !valid_name(n)).collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(error::usage(format!(
        "these names are not valid environment variable names ([A-Za-z_][A-Za-z0-9_]*): {}; \
         rename them with --keys NEW_NAME=OLD-NAME",
        bad.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    )))
}

/// Drop values no process environment can hold (a NUL byte), with a warning.
pub fn drop_unexportable(mut vars: Vec<Var>) -> Vec<Var> {
    vars.retain(|v| {
        let nul = v.value.expose().contains('\0');
        if nul {
            ui::warn(&format!(
                "{}: the value contains a NUL byte, which no environment variable can hold; skipped",
                v.name
            ));
        }
        !nul
    });
    vars
}
