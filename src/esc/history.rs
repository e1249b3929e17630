//! An environment's revision history: when each variable last changed (and
//! was added), read from the definitions of its revisions. `ls` of an ESC
//! target and the ESC source's dates for `status` both ask it.

use super::client::Esc;
use super::definition::{Definition, Since};
use super::env_ref::EnvRef;
use crate::record::Entry;
use anyhow::{Context as _, Result};
use futures_util::future::join_all;
use std::collections::HashSet;

/// How many revisions are walked back to date each variable's last change.
const MAX_REVISIONS: usize = 50;

/// Fill each entry's `updated_at` with the date of the newest revision
/// that changed its value, and `created_at` with the one that added it
/// when the walk gets there. Newest first, `concurrency` revisions at a
/// time, at most `MAX_REVISIONS` back, stopping after the batch in which
/// every `updated_at` became known; a variable unchanged for longer keeps
/// no date. Returns the date of the oldest revision looked at.
pub async fn date(esc: &Esc, env: &EnvRef, entries: &mut [Entry], concurrency: usize) -> Result<Option<String>> {
    let revisions = esc.revisions(env, MAX_REVISIONS + 1).await?;
    let mut newer: Option<(Option<String>, u64, Definition)> = None;
    for batch in revisions.chunks(concurrency.max(1)) {
        let texts = join_all(batch.iter().map(|r| esc.definition_at(env, r.number))).await;
        for (revision, text) in batch.iter().zip(texts) {
            let context = || format!("revision {} of ESC environment `{env}`", revision.number);
            let older = Definition::parse(text?).with_context(context)?;
            if let Some((date, _, definition)) = &newer {
                let since = definition.since(&older).with_context(context)?;
                for entry in entries.iter_mut() {
                    let Some(since) = since.get(&entry.name) else { continue };
                    if *since != Since::Same && entry.updated_at.is_none() {
                        entry.updated_at = date.clone();
                    }
                    if *since == Since::Added && entry.created_at.is_none() {
                        entry.created_at = date.clone();
                    }
                }
            }
            newer = Some((revision.created.clone(), revision.number, older));
        }
        if entries.iter().all(|e| e.updated_at.is_some()) {
            break;
        }
    }
    let oldest = newer.as_ref().and_then(|(date, _, _)| date.clone());
    // What the very first revision holds was created in it.
    if let Some((date, 1, first)) = newer {
        let held: HashSet<String> = first.variables()?.into_iter().map(|v| v.name).collect();
        for entry in entries.iter_mut().filter(|e| held.contains(&e.name)) {
            entry.updated_at = entry.updated_at.take().or_else(|| date.clone());
            entry.created_at = entry.created_at.take().or_else(|| date.clone());
        }
    }
    Ok(oldest)
}
