//! An environment's revision history: when each variable last changed (and
//! was added), read from the values an open of each revision returns. The
//! ESC source's dates for `status` and `ls`/`rotation` of an ESC target both ask it.

use super::client::{Esc, Revision};
use super::env_ref::EnvRef;
use crate::secret::Secret;
use crate::time::Timestamp;
use anyhow::{Context as _, Result};
use futures_util::future::join_all;
use std::collections::{HashMap, HashSet};

/// Revisions listed per request while paging back.
const PAGE: usize = 50;

/// When each key's value last changed (docs/routes.md, "escort status": what each date means).
#[derive(Debug, Default)]
pub struct Changes {
    /// RFC 3339 per name: the revision that changed its value, or (for the
    /// names in `before`) the oldest revision the service still serves.
    pub at: HashMap<String, String>,
    /// Unchanged in every revision there is to read: changed no later than `at`.
    pub before: HashSet<String>,
    /// RFC 3339 per name, where the walk reached it: the revision that added it.
    pub added: HashMap<String, String>,
}

impl Changes {
    /// Tell of each name dated at the oldest revision there is, not by a change
    /// (docs/routes.md, "escort status"): its date is "changed before DATE".
    pub fn note_before(&self, env: &EnvRef) {
        for name in &self.before {
            if let Some(at) = self.at.get(name) {
                crate::ui::note(&format!(
                    "{name}: unchanged in every revision of {env} ESC still has: changed before {at}"
                ));
            }
        }
    }
}

/// Date each of `names` by the values an open of each revision returns, so
/// that what the value depends on counts (`${...}` transitively, a rotator's
/// state, imports at their pin as that revision had them) and a secret is
/// compared by plaintext, never by ciphertext: a save that re-encrypts
/// changes nothing. Pages back (`before`) until every name's change is found
/// or the history ends. Retracted revisions are skipped: the service refuses
/// to read them, and what they held shows in the revisions around them. A
/// pinned `env` (`@42`, `@stable`) is dated at its pin; a tag moved after
/// that change counts as the change, since consumers of the tag saw it then.
pub async fn changes(esc: &Esc, env: &EnvRef, names: &[String], concurrency: usize) -> Result<Changes> {
    let head = EnvRef { version: None, ..env.clone() };
    let (pin, moved) = match env.version.as_deref() {
        None | Some("latest") => (None, None),
        Some(v) => match v.parse::<u64>() {
            Ok(n) => (Some(n), None),
            Err(_) => {
                let tag = esc.tag(&head, v).await?;
                (Some(tag.revision), tag.modified)
            }
        },
    };
    let mut changes = Changes::default();
    let mut pending: Vec<&String> = names.iter().collect();
    // The newer revision read: its date, number and values.
    let mut newer: Option<(Option<String>, u64, HashMap<String, Secret>)> = None;
    let mut before = pin.map(|n| n + 1);
    'pages: loop {
        let page = esc.revisions_before(&head, before, PAGE).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.number);
        let readable: Vec<&Revision> = page.iter().filter(|r| r.retracted.is_none()).collect();
        for batch in readable.chunks(concurrency.max(1)) {
            let opened = join_all(batch.iter().map(|r| values_at(esc, &head, r.number))).await;
            for (revision, values) in batch.iter().zip(opened) {
                let values = values?;
                if let Some((date, _, newer_values)) = &newer {
                    pending.retain(|name| {
                        let same = newer_values.get(*name).map(Secret::expose) == values.get(*name).map(Secret::expose);
                        if !same && let Some(date) = date {
                            changes.at.insert((*name).clone(), date.clone());
                            if !values.contains_key(*name) {
                                changes.added.insert((*name).clone(), date.clone());
                            }
                        }
                        same
                    });
                }
                newer = Some((revision.created.clone(), revision.number, values));
                if pending.is_empty() {
                    break 'pages;
                }
            }
        }
        if last.number <= 1 {
            break;
        }
    }
    // What the oldest revision read holds: created there (revision 1), or
    // changed no later than it (the history before it is gone or retracted).
    if let Some((Some(date), number, values)) = newer {
        for name in pending.into_iter().filter(|n| values.contains_key(*n)) {
            changes.at.insert(name.clone(), date.clone());
            if number == 1 {
                changes.added.insert(name.clone(), date.clone());
            } else {
                changes.before.insert(name.clone());
            }
        }
    }
    if let Some(moved) = moved.filter(|m| Timestamp::parse(m).is_some()) {
        for at in changes.at.values_mut() {
            if Timestamp::parse(at).is_some_and(|t| Some(t) < Timestamp::parse(&moved)) {
                *at = moved.clone();
            }
        }
    }
    Ok(changes)
}

/// The values an open of revision `number` returns, by name; each secret
/// registered for scrubbing, as a source's are.
async fn values_at(esc: &Esc, env: &EnvRef, number: u64) -> Result<HashMap<String, Secret>> {
    let at = EnvRef { version: Some(number.to_string()), ..env.clone() };
    let (vars, _) = esc.open_and_read(&at).await.with_context(|| format!("revision {number} of `{env}`"))?;
    crate::secret::register_all(vars.iter().flat_map(|v| v.sensitive(false)));
    Ok(vars.into_iter().map(|v| (v.name, v.value)).collect())
}
