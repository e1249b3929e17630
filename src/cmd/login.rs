//! `escort login`: trade an OIDC ID token for a Pulumi access token and export
//! it as `ESC_TOKEN` (masked in a GitHub job), like `load` exports variables.

use super::export::Output;
use crate::cli::LoginArgs;
use crate::error::{self, ExitStatus};
use crate::oidc::{self, Exchange};
use crate::secret::{self, Secret};
use crate::settings::Context;
use crate::vars::Var;
use anyhow::{Context as _, Result};
use std::io::Read;

pub async fn login(args: LoginArgs, ctx: &Context) -> Result<ExitStatus> {
    let out = Output::new(&args.output, ctx)?;
    let ex = Exchange {
        org: &args.oidc_organization,
        token_type: args.oidc_requested_token_type.as_str(),
        scope: args.oidc_scope.as_deref(),
        expiration: args.oidc_expiration,
    };
    let http = ctx.http()?;
    let id_token = match &args.oidc_token {
        Some(path) => read_token(path)?,
        None => oidc::github_id_token(&http, &ctx.settings.runner, &ex.audience()).await?,
    };
    let api = ctx.settings.esc.api_url("ESC_API_URL")?;
    let exchanged = oidc::exchange(&http, api.as_str().trim_end_matches('/'), &id_token, &ex).await;
    let token = crate::audit::login("Pulumi Cloud (OIDC)", ex.org, exchanged)?;
    out.export(vec![Var::secret("ESC_TOKEN", token)])?;
    Ok(ExitStatus::Success)
}

fn read_token(path: &str) -> Result<Secret> {
    let mut text = String::new();
    if path == "-" {
        std::io::stdin().read_to_string(&mut text).context("could not read the ID token from stdin")?;
    } else {
        text = std::fs::read_to_string(path).with_context(|| format!("could not read the ID token from {path}"))?;
    }
    let token = Secret::new(text.trim());
    if token.is_empty() {
        return Err(error::usage(format!("the ID token in {path} is empty")));
    }
    secret::register(&token);
    Ok(token)
}
