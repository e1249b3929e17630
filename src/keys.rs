//! `--keys`: which variables to export, and under which names.
//!
//! A list of `NAME`, `TO=FROM` and `*`, separated by commas or newlines (the
//! action passes a multi-line input). An empty list means `*`. A `?` after a
//! name (`NAME?`, `TO=FROM?`) makes it optional: a source without it gets a
//! warning instead of an error (the action's pulumi/esc-action mapping form,
//! docs/action.md, "Moving from pulumi/esc-action").

use crate::error;
use crate::vars::Var;
use anyhow::Result;
use std::str::FromStr;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    all: bool,
    /// (exported name, source name)
    picks: Vec<(String, String)>,
    /// Source names marked `?`: missing is a warning, not an error.
    optional: Vec<String>,
}

impl Selection {
    pub fn parse(list: &str) -> Result<Self> {
        let mut sel = Selection::default();
        for item in list.split([',', '\n']).map(str::trim).filter(|i| !i.is_empty()) {
            if item == "*" {
                sel.all = true;
                continue;
            }
            let (item, optional) = match item.strip_suffix('?') {
                Some(name) => (name.trim_end(), true),
                None => (item, false),
            };
            let (to, from) = match item.split_once('=') {
                Some((to, from)) => (to.trim(), from.trim()),
                None => (item, item),
            };
            if optional && !from.is_empty() {
                sel.optional.push(from.to_string());
            }
            if to.is_empty() || from.is_empty() {
                return Err(error::usage(format!("--keys: `{item}` needs a name on both sides of `=`")));
            }
            // One name, one value: `X=A,X=B` would export `X` twice (JSON with a key twice).
            match sel.picks.iter().find(|(t, _)| t == to) {
                Some((_, f)) if f == from => continue,
                Some((_, f)) => {
                    return Err(error::usage(format!(
                        "--keys: `{to}` is named twice, from `{f}` and from `{from}`: give each name once"
                    )));
                }
                None => {}
            }
            sel.picks.push((to.to_string(), from.to_string()));
        }
        if sel.picks.is_empty() {
            sel.all = true;
        }
        Ok(sel)
    }

    /// Every variable, under its own name (an empty list).
    pub fn everything() -> Self {
        Selection { all: true, ..Selection::default() }
    }

    /// Whether it takes every variable (empty, or with `*`).
    pub fn takes_everything(&self) -> bool {
        self.all
    }

    /// Apply to the variables of a source. A named key the source lacks is an
    /// error (a job that asked for it would otherwise start without it), or a
    /// warning when it was marked optional (`?`).
    pub fn apply(&self, vars: Vec<Var>) -> Result<Vec<Var>> {
        if self.all && self.picks.is_empty() {
            return Ok(vars);
        }
        let (optional, missing): (Vec<&str>, Vec<&str>) = self
            .picks
            .iter()
            .filter(|(_, from)| !vars.iter().any(|v| &v.name == from))
            .map(|(_, from)| from.as_str())
            .partition(|from| self.optional.iter().any(|o| o == from));
        for name in optional {
            // On stderr in a job: stdout carries the masks, which come first.
            crate::ui::alert(&format!("the source has no variable {name}: not exported"), crate::ui::annotating());
        }
        if !missing.is_empty() {
            return Err(error::usage(format!(
                "--keys names variables the source does not have: {}",
                missing.join(", ")
            )));
        }
        let mut picked: Vec<Var> = self
            .picks
            .iter()
            .filter_map(|(to, from)| {
                let mut v = vars.iter().find(|v| &v.name == from)?.clone();
                v.name = to.clone();
                Some(v)
            })
            .collect();
        if !self.all {
            return Ok(picked);
        }
        let mut out: Vec<Var> = vars.into_iter().filter(|v| !picked.iter().any(|p| p.name == v.name)).collect();
        out.append(&mut picked);
        Ok(out)
    }

    /// The source's name of a key `apply` names `name` (`TO=FROM`: FROM):
    /// what to ask the source about it, its dates.
    pub fn source_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.picks.iter().find(|(to, _)| to == name).map_or(name, |(_, from)| from)
    }

    /// The names `apply` would give to source keys named `names` (those it
    /// picks, under their new names), for keys that have no value to carry.
    pub fn rename(&self, names: Vec<String>) -> Vec<String> {
        let mut picked: Vec<String> =
            self.picks.iter().filter(|(_, from)| names.contains(from)).map(|(to, _)| to.clone()).collect();
        if !self.all {
            return picked;
        }
        let mut out: Vec<String> = names.into_iter().filter(|n| !picked.contains(n)).collect();
        out.append(&mut picked);
        out
    }
}

impl FromStr for Selection {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        Selection::parse(list).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vec<Var> {
        vec![Var::plain("A", "1"), Var::secret("B", "2"), Var::plain("C", "3")]
    }

    fn names(vs: &[Var]) -> Vec<&str> {
        vs.iter().map(|v| v.name.as_str()).collect()
    }

    #[test]
    fn a_name_is_exported_once() {
        let e = Selection::parse("X=A, X=B").unwrap_err();
        assert_eq!(error::kind_of(&e), error::Kind::Usage);
        assert!(e.to_string().contains("`X` is named twice"), "{e}");
        // The same pick again is no conflict: kept once.
        assert_eq!(Selection::parse("A,B=A,A").unwrap().picks.len(), 2);
    }

    #[test]
    fn names_without_values_are_renamed_as_values_are() {
        let names = || vec!["A".to_string(), "B".to_string()];
        assert_eq!(Selection::everything().rename(names()), names());
        assert_eq!(Selection::parse("X=B").unwrap().rename(names()), ["X"]);
        assert_eq!(Selection::parse("*,X=B").unwrap().rename(names()), ["A", "B", "X"]);
    }

    #[test]
    fn empty_and_star_take_everything() {
        for list in ["", "*", " * ,", "\n"] {
            let out = Selection::parse(list).unwrap().apply(vars()).unwrap();
            assert_eq!(names(&out), ["A", "B", "C"], "{list:?}");
        }
    }

    #[test]
    fn names_and_renames() {
        let out = Selection::parse("C, X=B\nA").unwrap().apply(vars()).unwrap();
        assert_eq!(names(&out), ["C", "X", "A"]);
        assert_eq!(out[1].value.expose(), "2");
        assert!(out[1].secret);
    }

    #[test]
    fn star_with_renames_keeps_the_originals() {
        let out = Selection::parse("*,X=B,A=C").unwrap().apply(vars()).unwrap();
        assert_eq!(names(&out), ["B", "C", "X", "A"]);
        assert_eq!(out[3].value.expose(), "3");
    }

    #[test]
    fn a_missing_optional_name_is_skipped() {
        let out = Selection::parse("A?, X=NOPE?, Y=B").unwrap().apply(vars()).unwrap();
        assert_eq!(names(&out), ["A", "Y"]);
        let err = Selection::parse("A?, NOPE").unwrap().apply(vars()).unwrap_err();
        assert!(err.to_string().contains("NOPE"), "{err}");
    }

    #[test]
    fn missing_and_malformed() {
        let err = Selection::parse("A,NOPE,Y=ALSO_NOPE").unwrap().apply(vars()).unwrap_err();
        assert!(err.to_string().contains("NOPE, ALSO_NOPE"), "{err}");
        assert!(Selection::parse("=A").is_err());
        assert!(Selection::parse("A=?").is_err());
        assert!(Selection::parse("A=").is_err());
    }
}
