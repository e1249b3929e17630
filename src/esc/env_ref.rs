//! `EnvRef`: an ESC environment as the user names it, parsed with no I/O.

use crate::error;
use anyhow::Result;
use std::fmt;

/// `[org/][project/]env[@version-or-tag]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvRef {
    pub org: Option<String>,
    pub project: String,
    pub env: String,
    pub version: Option<String>,
}

impl EnvRef {
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let shown = crate::ui::escape(text);
        let (path, version) = match text.split_once('@') {
            Some((p, v)) if !v.is_empty() => (p, Some(v.to_string())),
            Some(_) => return Err(error::usage(format!("environment `{shown}`: nothing after `@`"))),
            None => (text, None),
        };
        let parts: Vec<&str> = path.split('/').collect();
        if !parts.iter().all(|p| is_name(p)) {
            return Err(error::usage(format!(
                "environment `{shown}` is not of the form [org/][project/]env[@version], \
                 with names of letters, digits, `-`, `_` and `.` (not `.` or `..`)"
            )));
        }
        // A version is a revision number or a tag: the same characters as a name.
        if version.as_deref().is_some_and(|v| !is_name(v)) {
            return Err(error::usage(format!(
                "environment `{shown}`: the part after `@` must be a revision number or a tag \
                 (letters, digits, `-`, `_` and `.`)"
            )));
        }
        let (org, project, env) = match parts.as_slice() {
            // A bare name is a legacy environment, kept by ESC in the project `default`.
            [env] => (None, "default", *env),
            [project, env] => (None, *project, *env),
            [org, project, env] => (Some(org.to_string()), *project, *env),
            _ => return Err(error::usage(format!("environment `{shown}` has more than three parts"))),
        };
        Ok(EnvRef { org, project: project.to_string(), env: env.to_string(), version })
    }
}

/// An organization, project, environment or tag name: one URL path segment
/// that cannot climb (`.`, `..`) or end the path (`/`, `?`, `#`).
pub(super) fn is_name(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

impl fmt::Display for EnvRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(org) = &self.org {
            write!(f, "{org}/")?;
        }
        write!(f, "{}/{}", self.project, self.env)?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for EnvRef {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        EnvRef::parse(text).map_err(|e| e.to_string())
    }
}
