//! `escort login`: trade an OIDC ID token for a Pulumi access token and export
//! it as `ESC_TOKEN` (masked in a GitHub job), like `load` exports variables.

use super::load::Output;
use crate::cli::OutputArgs;
use crate::esc;
use crate::http::Http;
use crate::oidc::{self, Exchange};
use crate::secret::Secret;
use crate::vars::Var;
use crate::{error, secret};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::io::Read;

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The Pulumi organization to log in to (the token's audience is `urn:pulumi:org:ORG`).
    #[arg(long, value_name = "ORG")]
    pub oidc_organization: String,

    /// Read the ID token from FILE (`-` for stdin) instead of asking the GitHub Actions runtime.
    #[arg(long, value_name = "FILE")]
    pub oidc_token: Option<String>,

    /// The kind of Pulumi token to ask for.
    #[arg(long, value_enum, default_value_t = TokenType::Organization)]
    pub oidc_requested_token_type: TokenType,

    /// Scope: empty or `admin` for organization tokens, `team:NAME`, `user:LOGIN`.
    #[arg(long, value_name = "SCOPE")]
    pub oidc_scope: Option<String>,

    /// Lifetime of the Pulumi token in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub oidc_expiration: Option<u64>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
    Organization,
    Team,
    Personal,
}

impl TokenType {
    fn as_str(self) -> &'static str {
        match self {
            TokenType::Organization => "organization",
            TokenType::Team => "team",
            TokenType::Personal => "personal",
        }
    }
}

pub async fn login(args: LoginArgs) -> Result<u8> {
    let out = Output::new(&args.output)?;
    let ex = Exchange {
        org: &args.oidc_organization,
        token_type: args.oidc_requested_token_type.as_str(),
        scope: args.oidc_scope.as_deref(),
        expiration: args.oidc_expiration,
    };
    let http = Http::new()?;
    let id_token = match &args.oidc_token {
        Some(path) => read_token(path)?,
        None => oidc::github_id_token(&http, &ex.audience()).await?,
    };
    let token = oidc::exchange(&http, &esc::api_base()?, &id_token, &ex).await?;
    out.export(vec![Var::secret("ESC_TOKEN", token)])?;
    Ok(0)
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
