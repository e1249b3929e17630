//! A Pulumi ESC environment as a `Target` (`esc:ENV`; docs/routes.md, "Targets beyond GitHub"): variables
//! under `values.environmentVariables` of its definition, secrets as
//! `fn::secret`. Every write is one PATCH of the whole definition carrying its
//! ETag; when someone else changed it in between (409), the definition is
//! read again and the same change made to it, a bounded number of times.

use super::common::{Options, Target, env_var_problems};
use crate::error;
use crate::esc::definition::{Change, Definition};
use crate::esc::history::{self, Changed};
use crate::esc::{EnvRef, Esc};
use crate::http::HttpError;
use crate::record::{Action, Entry, Outcome, Progress, Values, outcomes};
use crate::settings::Context;
use crate::ui;
use crate::vars::BoxFuture;
use crate::vars::Var;
use anyhow::{Context as _, Result};
use tokio::sync::OnceCell;

/// Rounds of read, edit and write before concurrent changes are reported.
const TRIES: usize = 3;

pub struct EscTarget {
    esc: Esc,
    env: EnvRef,
    /// `env` with its organization, looked up once.
    resolved: OnceCell<EnvRef>,
    /// `--plaintext`: written as plain values even when the source says secret.
    plaintext: Vec<String>,
    concurrency: usize,
}

impl EscTarget {
    /// The environment `env`, with the ESC settings.
    pub fn open(env: EnvRef, options: &Options, ctx: &Context) -> Result<Self> {
        Ok(EscTarget {
            esc: Esc::new(ctx)?,
            env,
            resolved: OnceCell::new(),
            plaintext: options.plaintext.iter().map(|k| k.trim().to_string()).collect(),
            concurrency: options.concurrency.max(1),
        })
    }

    async fn env(&self) -> Result<&EnvRef> {
        self.resolved.get_or_try_init(|| self.esc.resolve(&self.env)).await
    }

    /// Read the definition, make `changes`, write it back with its ETag; from
    /// the read again on a 409. Whether each changed name was there before.
    async fn write(&self, changes: &[Change<'_>]) -> Result<Vec<bool>> {
        let env = self.env().await?;
        let context = || format!("ESC environment `{env}`");
        for attempt in 1..=TRIES {
            let (text, etag) = self.esc.definition(env).await?;
            // Without one, the write could replace a change escort never saw.
            let etag = etag.ok_or_else(|| {
                error::backend(format!(
                    "ESC sent the definition of `{env}` without an ETag: escort writes only with one"
                ))
            })?;
            let definition = Definition::parse(text).with_context(context)?;
            let edited = definition.edit(changes).with_context(context)?;
            if *edited.text == *definition.text() {
                return Ok(edited.existed);
            }
            match self.esc.update_definition(env, &edited.text, &etag).await {
                Ok(()) => return Ok(edited.existed),
                Err(e) if conflict(&e) && attempt < TRIES => {
                    ui::note(&format!(
                        "ESC environment `{env}` changed while escort was writing to it: reading it again"
                    ));
                }
                Err(e) if conflict(&e) => break,
                Err(e) => return Err(e),
            }
        }
        Err(error::backend(format!(
            "ESC environment `{env}` was changed by someone else each of the {TRIES} times escort tried to write \
             to it, so nothing was written: run the command again"
        )))
    }
}

/// The ENV of `esc:ENV`: an environment that can be written, so no `@revision`.
pub fn parse(env: &str) -> Result<EnvRef> {
    let env = EnvRef::parse(env)?;
    if let Some(version) = &env.version {
        return Err(error::usage(format!(
            "revision `{version}` cannot be written; name the environment without @{version}"
        )));
    }
    Ok(env)
}

fn conflict(e: &anyhow::Error) -> bool {
    e.downcast_ref::<HttpError>().is_some_and(|h| h.status == Some(409))
}

impl Target for EscTarget {
    fn name(&self) -> String {
        format!("ESC environment {}", self.env)
    }

    fn check(&self, vars: &[Var]) -> Result<()> {
        let mut problems = env_var_problems(vars);
        for key in &self.plaintext {
            if !vars.iter().any(|v| v.name == *key) {
                problems.push(format!("--plaintext names {key}, which is not being written"));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(error::usage(format!(
            "ESC exports these as environment variables and would not export them, so nothing was sent: {}",
            problems.join("; ")
        )))
    }

    fn list(&self, details: bool) -> BoxFuture<'_, Result<Vec<Entry>>> {
        Box::pin(async move {
            let env = self.env().await?;
            let (text, _) = self.esc.definition(env).await?;
            let context = || format!("ESC environment `{env}`");
            let definition = Definition::parse(text).with_context(context)?;
            let variables = definition.variables().with_context(context)?;
            let mut entries: Vec<Entry> =
                variables.into_iter().map(|v| Entry { name: v.name, secret: v.secret, ..Entry::default() }).collect();
            if details && !entries.is_empty() {
                // Dated as an ESC source's keys are (docs/routes.md, "escort status"): by opened
                // values, so a save that re-encrypts changes no date, imports at their pins; a
                // value that reads a provider changes with no revision, and has none.
                let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
                let mut dated = history::dates(&self.esc, env, &names, self.concurrency).await?;
                for entry in &mut entries {
                    let name = ui::escape(&entry.name);
                    match dated.changed.remove(&entry.name) {
                        Some(Changed::At(at)) => entry.updated_at = Some(at),
                        Some(Changed::Before(at)) => {
                            ui::note(&format!(
                                "{name}: unchanged in every revision of {env} ESC still has: changed before {at}"
                            ));
                            entry.updated_at = Some(at);
                        }
                        Some(Changed::Undatable(why)) => ui::note(&format!("{name}: no date: {why}")),
                        None => {}
                    }
                    entry.created_at = dated.added.remove(&entry.name);
                }
            }
            Ok(entries)
        })
    }

    /// The variables of its definition with their values as an open returns
    /// them (`${...}`, imports, providers and `fn::secret` resolved by ESC):
    /// status compares values, never definition text, which a save re-encrypts
    /// and a reference hides (docs/routes.md, "escort status"). A variable that opens
    /// null or unknown has no value to compare and is left out: never extra,
    /// so never pruned.
    fn values(&self) -> BoxFuture<'_, Result<Option<Values>>> {
        Box::pin(async move {
            let entries = self.list(false).await?;
            let (vars, _) = self.esc.open_and_read(self.env().await?).await?;
            let mut opened: std::collections::HashMap<String, Var> =
                vars.into_iter().filter(|v| !v.file).map(|v| (v.name.clone(), v)).collect();
            // What it holds is as sensitive as what a source reads.
            crate::secret::register_all(opened.values().flat_map(|v| v.sensitive(false)));
            Ok(Some(entries.into_iter().filter_map(|e| opened.remove(&e.name).map(|v| (e, v.value))).collect()))
        })
    }

    /// Writes and deletions in one edit: one new revision.
    fn apply<'a>(
        &'a self,
        vars: &'a [Var],
        prune: &'a [String],
        progress: Progress<'a>,
    ) -> BoxFuture<'a, Result<Vec<Outcome>>> {
        Box::pin(async move {
            let secret = |v: &Var| v.secret && !self.plaintext.contains(&v.name);
            let changes: Vec<Change> = vars
                .iter()
                .map(|v| Change { name: &v.name, value: Some(&v.value), secret: secret(v) })
                .chain(prune.iter().map(|name| Change { name, value: None, secret: false }))
                .collect();
            if changes.is_empty() {
                return Ok(Vec::new());
            }
            let existed = self.write(&changes).await?;
            let results = changes.iter().zip(existed).map(|(change, was)| {
                let result = match (change.value, was) {
                    (Some(_), true) => Ok(Action::Update),
                    (Some(_), false) => Ok(Action::Create),
                    (None, true) => Ok(Action::Delete),
                    (None, false) => {
                        Err(error::backend(format!("{} is not in the definition of the {}", change.name, self.name())))
                    }
                };
                (change.name, result)
            });
            Ok(outcomes(results, progress))
        })
    }
}
