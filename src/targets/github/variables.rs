//! Writing GitHub Actions variables (docs/routes.md, "GitHub Actions variables"):
//! `POST {scope}/variables` creates one (201), `PATCH {scope}/variables/NAME`
//! updates it (204). Everything else (the scope, the listing, deletes, the
//! client) is the secrets target's, in `mod.rs`.

use super::client::{Access, GitHub, Listed, bounded};
use super::scope::Visibility;
use crate::http::Request;
use crate::record::{Action, Outcome, Progress};
use crate::vars::Var;
use anyhow::Result;
use reqwest::Method;
use serde::Serialize;

#[derive(Serialize)]
struct Body<'a> {
    /// Only when creating: an update that names the variable renames it.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    value: &'a str,
    #[serde(flatten)]
    access: Access<'a>,
}

impl GitHub {
    pub(super) async fn put_variables(&self, vars: &[Var], progress: Progress<'_>) -> Result<Vec<Outcome>> {
        // One listing says which exist (create or update); with the
        // repository ids, one error for a bad token rather than one per name.
        let ids = self.repo_ids().await?;
        let existing = self.listing().await?;
        Ok(bounded(vars, self.concurrency, progress, |v| async move {
            Outcome { name: v.name.clone(), result: self.put_variable(v, ids, existing).await }
        })
        .await)
    }

    async fn put_variable(&self, var: &Var, ids: Option<&[u64]>, existing: &[Listed]) -> Result<Action> {
        let exists = self.find(existing, &var.name).is_some();
        // Organization variables: a new one is private unless the flags say
        // otherwise; an update keeps who may read it unless they do.
        let visibility = match (self.scope.level.has_visibility(), exists) {
            (false, _) => None,
            (true, true) => self.asked_visibility(),
            (true, false) => Some(self.asked_visibility().unwrap_or(Visibility::Private)),
        };
        let body = Body {
            name: (!exists).then_some(var.name.as_str()),
            value: var.value.expose(),
            access: Access {
                visibility: visibility.map(Visibility::as_str),
                // GitHub takes repository ids only with `selected`.
                selected_repository_ids: ids.filter(|_| visibility == Some(Visibility::Selected)),
            },
        };
        let noun = self.scope.store.noun();
        let req: Request<'_> = if exists {
            let op = format!("update {noun} {} in the {}", var.name, self.scope);
            // Writing the same value again is harmless.
            self.request(op, Method::PATCH, &self.scope.path(&[&var.name]), &[])?.retry(true)
        } else {
            // Not retried: a create that reached GitHub would fail again as a conflict.
            let op = format!("create {noun} {} in the {}", var.name, self.scope);
            self.request(op, Method::POST, &self.scope.path(&[]), &[])?
        };
        let req = req.header("content-type", "application/json").body(serde_json::to_vec(&body)?);
        self.http.send(req).await?;
        Ok(if exists { Action::Update } else { Action::Create })
    }
}
