//! Sync routes: the manifest's `[sync.NAME]` tables (docs/routes.md, "Routes"). Each
//! says where a set of secrets comes from and every copy it must reach, so
//! `escort status` and `escort sync` need no flags to know the whole fleet.

use crate::keys::Selection;
use crate::settings::Context;
use crate::source::SourceSpec;
use crate::targets::TargetSpec;
use crate::targets::github::{App, Level, Store, Visibility};
use anyhow::Result;
use serde::Deserialize;
use std::ops::Range;
use toml::Spanned;

#[derive(Clone, Debug)]
pub struct Route {
    pub name: String,
    pub from: SourceSpec,
    pub to: Vec<TargetSpec>,
    pub keys: Selection,
    /// Only the manifest secrets of these groups (empty: no such filter).
    pub groups: Vec<String>,
    /// Delete what a target has and the source lacks.
    pub prune: bool,
    /// Where plain values bound for GitHub secrets go.
    pub plain: Plain,
    pub app: Option<App>,
    pub visibility: Option<Visibility>,
    pub repos: Vec<String>,
    /// After a sync, have what runs from each target load the new copies
    /// (Fly.io: update the machines).
    pub deploy: bool,
}

/// Where a route sends plain values (not secret at the source, or `secret =
/// false` in the manifest) bound for GitHub Actions secrets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Plain {
    /// To the Actions variables beside the secrets.
    #[default]
    Variables,
    /// To the secrets, as secret values are.
    Secrets,
    /// Nowhere on GitHub.
    Skip,
}

/// Which of a route's values a target gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Share {
    All,
    Secret,
    Plain,
}

impl Route {
    /// The route with each `github:` target that names no repository given
    /// the checkout's (`TargetSpec::resolve`).
    pub fn resolved(&self, ctx: &Context) -> Result<Route> {
        let to = self.to.iter().map(|spec| spec.resolve(ctx)).collect::<Result<_>>()?;
        Ok(Route { to, ..self.clone() })
    }

    /// Each target the route writes, with the values it gets (docs/routes.md,
    /// "Routes"): GitHub secrets get the secret values, and the plain ones as
    /// `plain` says: to the Actions variables of the same repository,
    /// environment or organization (to the secrets where GitHub has no such
    /// variables), to the secrets, or nowhere. A `github-vars:` target gets the
    /// plain values only; every other target gets everything.
    pub fn copies(&self) -> Vec<(TargetSpec, Share)> {
        let mut copies: Vec<(TargetSpec, Share)> = Vec::new();
        let actions = self.app.is_none_or(|a| a == App::Actions);
        for spec in &self.to {
            match spec {
                TargetSpec::GitHub(level, Store::Secrets) => {
                    // Variables exist for Actions, below the user level.
                    let beside =
                        (actions && *level != Level::User).then(|| TargetSpec::GitHub(level.clone(), Store::Variables));
                    let share = match (self.plain, &beside) {
                        (Plain::Secrets, _) | (Plain::Variables, None) => Share::All,
                        _ => Share::Secret,
                    };
                    copies.push((spec.clone(), share));
                    if let (Plain::Variables, Some(beside)) = (self.plain, beside)
                        && !self.to.contains(&beside)
                    {
                        copies.push((beside, Share::Plain));
                    }
                }
                TargetSpec::GitHub(_, Store::Variables) => copies.push((spec.clone(), Share::Plain)),
                _ => copies.push((spec.clone(), Share::All)),
            }
        }
        copies
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    from: Spanned<String>,
    to: Spanned<Vec<Spanned<String>>>,
    keys: Option<Spanned<Vec<String>>>,
    groups: Option<Vec<Spanned<String>>>,
    prune: Option<Spanned<String>>,
    plain: Option<Spanned<String>>,
    app: Option<Spanned<String>>,
    visibility: Option<Spanned<String>>,
    repos: Option<Vec<String>>,
    /// `dotenv:` targets may lie outside the checkout (an absolute path, `..`).
    dotenv_outside: Option<bool>,
    deploy: Option<bool>,
}

/// What `ui::escape` would escape: nothing a report prints raw may hold it.
fn unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Check each raw route; `err` makes a `FILE:LINE: message` error from a span,
/// and `groups` are the manifest's group names.
pub fn build(
    raw: Vec<(Spanned<String>, RawRoute)>,
    groups: &[String],
    err: impl Fn(Option<Range<usize>>, String) -> anyhow::Error,
) -> Result<Vec<Route>> {
    let mut routes = Vec::with_capacity(raw.len());
    for (name, r) in raw {
        // Names and specs are printed in reports and plans: a line break in
        // one would start a line of its own (a workflow command, in a job log).
        if name.get_ref().contains(unprintable) {
            let shown = name.get_ref().escape_debug();
            return Err(err(
                Some(name.span()),
                format!("sync.\"{shown}\": a route name cannot hold control characters"),
            ));
        }
        let at = |what: &str| format!("sync.{}: {what}", name.get_ref());
        let parse = |s: &Spanned<String>, what: &str| -> Result<String> {
            let text = s.get_ref().trim();
            if text.is_empty() {
                Err(err(Some(s.span()), at(&format!("`{what}` is empty"))))
            } else if text.contains(unprintable) {
                Err(err(Some(s.span()), at(&format!("`{what}` cannot hold control characters"))))
            } else {
                Ok(text.into())
            }
        };
        let from: SourceSpec = parse(&r.from, "from")?.parse().map_err(|e: String| err(Some(r.from.span()), at(&e)))?;
        if r.to.get_ref().is_empty() {
            return Err(err(Some(r.to.span()), at("`to` is empty: name at least one target")));
        }
        let to =
            r.to.get_ref()
                .iter()
                .map(|t| parse(t, "to")?.parse::<TargetSpec>().map_err(|e| err(Some(t.span()), at(&e))))
                .collect::<Result<Vec<_>>>()?;
        // A manifest comes with the checkout: its routes write only inside it, unless it says so.
        if r.dotenv_outside != Some(true) {
            for (spec, t) in to.iter().zip(r.to.get_ref()) {
                if let TargetSpec::Dotenv(path) = spec
                    && (path.is_absolute() || path.components().any(|c| c == std::path::Component::ParentDir))
                {
                    return Err(err(
                        Some(t.span()),
                        at(&format!(
                            "`{}` is outside the checkout: a route writes .env files inside it \
                             (set `dotenv_outside = true` to allow it)",
                            path.display()
                        )),
                    ));
                }
            }
        }
        let keys = match &r.keys {
            None => Selection::everything(),
            Some(list) => list.get_ref().join(",").parse().map_err(|e: String| err(Some(list.span()), at(&e)))?,
        };
        let mut route_groups = Vec::new();
        for g in r.groups.unwrap_or_default() {
            if !groups.contains(g.get_ref()) {
                return Err(err(Some(g.span()), at(&format!("group `{}` is not defined", g.get_ref()))));
            }
            route_groups.push(g.into_inner());
        }
        let choice = |value: &Option<Spanned<String>>, field: &str, allowed: &[&str]| -> Result<Option<String>> {
            match value {
                None => Ok(None),
                Some(v) if allowed.contains(&v.get_ref().as_str()) => Ok(Some(v.get_ref().clone())),
                Some(v) => Err(err(
                    Some(v.span()),
                    at(&format!("`{field}` is `{}`: use {}", v.get_ref(), allowed.join(" or "))),
                )),
            }
        };
        let prune = choice(&r.prune, "prune", &["none", "all"])?.as_deref() == Some("all");
        let plain = match choice(&r.plain, "plain", &["variables", "secrets", "skip"])?.as_deref() {
            Some("secrets") => Plain::Secrets,
            Some("skip") => Plain::Skip,
            _ => Plain::Variables,
        };
        let app = choice(&r.app, "app", &App::NAMES)?.map(|a| a.parse().expect("one of App::NAMES"));
        let visibility =
            choice(&r.visibility, "visibility", &Visibility::NAMES)?.map(|v| v.parse().expect("one of the names"));
        routes.push(Route {
            name: name.into_inner(),
            from,
            to,
            keys,
            groups: route_groups,
            prune,
            plain,
            app,
            visibility,
            repos: r.repos.unwrap_or_default(),
            deploy: r.deploy.unwrap_or(false),
        });
    }
    Ok(routes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(to: &[&str], plain: Plain, app: Option<App>) -> Route {
        Route {
            name: "r".into(),
            from: "env".parse().unwrap(),
            to: to.iter().map(|t| t.parse().unwrap()).collect(),
            keys: Selection::everything(),
            groups: Vec::new(),
            prune: false,
            plain,
            app,
            visibility: None,
            repos: Vec::new(),
            deploy: false,
        }
    }

    fn copies(r: &Route) -> Vec<(String, Share)> {
        r.copies().into_iter().map(|(spec, share)| (spec.to_string(), share)).collect()
    }

    #[test]
    fn plain_values_bound_for_actions_secrets_go_beside_them() {
        let to = ["github:a/b@prod", "github-org:acme", "github-user", "fly:app", "dotenv:x.env"];
        let owned = |pairs: &[(&str, Share)]| pairs.iter().map(|(s, h)| (s.to_string(), *h)).collect::<Vec<_>>();
        assert_eq!(
            copies(&route(&to, Plain::Variables, None)),
            owned(&[
                ("github:a/b@prod", Share::Secret),
                ("github-vars:a/b@prod", Share::Plain),
                ("github-org:acme", Share::Secret),
                ("github-org-vars:acme", Share::Plain),
                // No variables for users, nor outside GitHub.
                ("github-user", Share::All),
                ("fly:app", Share::All),
                ("dotenv:x.env", Share::All),
            ])
        );
        assert_eq!(
            copies(&route(&to[..3], Plain::Skip, None)),
            owned(&[
                ("github:a/b@prod", Share::Secret),
                ("github-org:acme", Share::Secret),
                ("github-user", Share::Secret)
            ])
        );
        assert_eq!(
            copies(&route(&to[..2], Plain::Secrets, Some(App::Actions))),
            owned(&[("github:a/b@prod", Share::All), ("github-org:acme", Share::All)])
        );
        // Dependabot and Codespaces have no variables: plain values stay secrets there.
        assert_eq!(
            copies(&route(&["github:a/b"], Plain::Variables, Some(App::Dependabot))),
            owned(&[("github:a/b", Share::All)])
        );
        // A variables target named in the route is not added twice, and gets plain values only.
        assert_eq!(
            copies(&route(&["github-vars:a/b", "github:a/b"], Plain::Variables, None)),
            owned(&[("github-vars:a/b", Share::Plain), ("github:a/b", Share::Secret)])
        );
    }
}
