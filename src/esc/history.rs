//! An environment's revision history: when each variable last changed (and
//! was added), read from the values an open of each revision returns, and
//! for what it reads from imported environments, from theirs at their pins.
//! The ESC source's dates for `status` and `rotation`, and `ls`/`rotation`
//! of an ESC target, all ask it.

use super::client::{Esc, Revision};
use super::definition::Definition;
use super::env_ref::EnvRef;
use super::value::{Node, Value};
use crate::secret::Secret;
use crate::time::Timestamp;
use crate::vars::BoxFuture;
use anyhow::{Context as _, Result};
use futures_util::future::join_all;
use std::collections::{HashMap, HashSet};

/// Revisions listed per request while paging back.
const PAGE: usize = 50;
/// Imports followed below a source, at most: deeper is left undated.
const MAX_IMPORT_DEPTH: usize = 8;

/// When a key last changed at its source (docs/routes.md, "escort status":
/// what each date means).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changed {
    /// RFC 3339: the newest revision that changed anything the value reads.
    At(String),
    /// RFC 3339: unchanged in every revision there is to read, so changed no
    /// later than the oldest of them.
    Before(String),
    /// No revision can date it, and why (a provider's value changes with none).
    Undatable(String),
}

impl Changed {
    /// The date a copy must be newer than, if there is one.
    pub fn date(&self) -> Option<&str> {
        match self {
            Changed::At(at) | Changed::Before(at) => Some(at),
            Changed::Undatable(_) => None,
        }
    }

    pub fn is_before(&self) -> bool {
        matches!(self, Changed::Before(_))
    }

    /// The newer of two, for a value that reads both: an undatable part
    /// makes it undatable; on the same date an exact one wins.
    fn newest(self, other: Changed) -> Changed {
        let at = |c: &Changed| c.date().and_then(Timestamp::parse);
        match (&self, &other) {
            (Changed::Undatable(_), _) => self,
            (_, Changed::Undatable(_)) => other,
            _ if at(&other) > at(&self) || (at(&other) == at(&self) && !other.is_before()) => other,
            _ => self,
        }
    }
}

/// What a walk compares from revision to revision: an exported variable, or
/// a top-level property of `values` (what an importer may read with `${...}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Want {
    Var(String),
    Property(String),
}

impl Want {
    fn var(self) -> Option<String> {
        match self {
            Want::Var(name) => Some(name),
            Want::Property(_) => None,
        }
    }
}

/// A wanted thing's value in one revision.
#[derive(PartialEq)]
enum Held {
    Var(Secret),
    Property(Value),
}

/// An environment's variables, dated (`dates`).
#[derive(Debug, Default)]
pub struct Dates {
    /// Per name: when its value last changed.
    pub changed: HashMap<String, Changed>,
    /// RFC 3339 per name, where the walk of the environment's own revisions
    /// reached it: the revision that added it.
    pub added: HashMap<String, String>,
}

/// When each of `names` (variables of `env`) last changed: the newest of its
/// change in `env`'s revisions and, for what it may read from an import (a
/// key the definition does not state, a `${...}` path only an import holds),
/// the change in each import at the pin its `imports:` entry names, and so on
/// down, followed the same way. What an import gives is dated by the whole
/// top-level property read, never younger than the true change. A value that
/// reads a provider, an import cycle or imports too deep are `Undatable`.
pub async fn dates(esc: &Esc, env: &EnvRef, names: &[String], concurrency: usize) -> Result<Dates> {
    let wants = names.iter().cloned().map(Want::Var).collect();
    let (mut dated, added) = date(esc, env, wants, Vec::new(), concurrency).await?;
    let changed = names
        .iter()
        .map(|name| {
            let changed = dated
                .remove(&Want::Var(name.clone()))
                .unwrap_or_else(|| Changed::Undatable(format!("no revision of {env} escort could read holds it")));
            (name.clone(), changed)
        })
        .collect();
    let added = added.into_iter().filter_map(|(w, at)| Some((w.var()?, at))).collect();
    Ok(Dates { changed, added })
}

/// Each want's change, and the revision of the environment that added it,
/// where its walk reached it.
type Dated = (HashMap<Want, Changed>, HashMap<Want, String>);

/// `dates` for `wants` in `env`, `chain` the importers above it.
fn date<'a>(
    esc: &'a Esc,
    env: &'a EnvRef,
    wants: Vec<Want>,
    chain: Vec<String>,
    concurrency: usize,
) -> BoxFuture<'a, Result<Dated>> {
    Box::pin(async move {
        let text = esc.definition_at(env).await?;
        let definition = Definition::parse(text).with_context(|| format!("ESC environment `{env}`"))?;
        let own: HashSet<String> = definition.variables()?.into_iter().map(|v| v.name).collect();
        let imports = definition.imports()?;
        let mut out = HashMap::new();
        let mut walked = Vec::new();
        // What each want may read in the imports.
        let mut reads: HashMap<Want, Vec<Want>> = HashMap::new();
        for want in wants {
            let (found, also) = match &want {
                Want::Var(name) if own.contains(name) => (definition.reads(name)?, None),
                Want::Var(_) => (Ok(Vec::new()), Some(want.clone())),
                Want::Property(key) => (definition.reads_value(key), Some(want.clone())),
            };
            match found {
                Err(why) => {
                    out.insert(want, Changed::Undatable(why.to_string()));
                }
                Ok(roots) if roots.iter().any(|r| r == "environments" || r == "imports") => {
                    let why = "it reads another environment through `${environments...}` or `${imports...}`, \
                               which escort does not follow";
                    out.insert(want, Changed::Undatable(why.to_string()));
                }
                Ok(roots) => {
                    let mut read: Vec<Want> = roots.into_iter().map(Want::Property).collect();
                    read.extend(also.filter(|a| !read.contains(a)));
                    if !imports.is_empty() && !read.is_empty() {
                        reads.insert(want.clone(), read);
                    }
                    walked.push(want);
                }
            }
        }
        let walk = walk(esc, env, &walked, concurrency).await?;
        let mut asked: Vec<Want> = Vec::new();
        for want in reads.values().flatten() {
            if !asked.contains(want) {
                asked.push(want.clone());
            }
        }
        // Each import at once, at its pin, for what the wants may read there.
        let here = EnvRef { version: None, ..env.clone() }.to_string();
        let chain = [chain, vec![here]].concat();
        let froms = match asked.is_empty() {
            true => Vec::new(),
            false => imports.iter().map(|i| import_ref(env, i)).collect::<Result<Vec<_>>>()?,
        };
        let imported = join_all(froms.into_iter().map(|from| {
            let (asked, chain) = (&asked, &chain);
            async move {
                let head = EnvRef { version: None, ..from.clone() }.to_string();
                let refused = if chain.contains(&head) {
                    Err(format!("it reads {from}, which imports {env} back: a cycle"))
                } else if chain.len() >= MAX_IMPORT_DEPTH {
                    Err(format!("it reads {from}, more than {MAX_IMPORT_DEPTH} imports deep"))
                } else {
                    Ok(())
                };
                // An import escort cannot read the history of (access to open
                // it is not access to its revisions) leaves what it gives undated.
                let dated = match refused {
                    Err(why) => Err(why),
                    Ok(()) => {
                        date(esc, &from, asked.clone(), chain.clone(), concurrency).await.map(|(d, _)| d).map_err(|e| {
                            format!("its revisions could not be read: {}", crate::secret::scrub(&format!("{e:#}")))
                        })
                    }
                };
                let dated = dated
                    .unwrap_or_else(|why| asked.iter().map(|w| (w.clone(), Changed::Undatable(why.clone()))).collect());
                (from, dated)
            }
        }))
        .await;
        for want in walked {
            let own = walk.at.get(&want).map(|at| match walk.before.contains(&want) {
                true => Changed::Before(at.clone()),
                false => Changed::At(at.clone()),
            });
            let read = reads.get(&want).into_iter().flatten();
            let from_imports =
                read.flat_map(|r| imported.iter().filter_map(move |(from, dated)| Some((from, dated.get(r)?))));
            let mut newest = own;
            for (from, changed) in from_imports {
                let changed = match changed {
                    Changed::Undatable(why) => Changed::Undatable(format!("{why} (in the import {from})")),
                    dated => dated.clone(),
                };
                newest = Some(match newest {
                    Some(n) => n.newest(changed),
                    None => changed,
                });
            }
            if let Some(changed) = newest {
                out.insert(want, changed);
            }
        }
        Ok((out, walk.added))
    })
}

/// An `imports:` entry as a reference: `proj/env` in the importer's
/// organization, a bare `env` in the project `default`, as ESC documents
/// it; `@REV` or `@TAG` its pin.
fn import_ref(importer: &EnvRef, import: &str) -> Result<EnvRef> {
    let from = EnvRef::parse(import).with_context(|| format!("an import of {importer}"))?;
    Ok(EnvRef { org: importer.org.clone(), ..from })
}

/// What `walk` found, by want.
#[derive(Default)]
struct Walk {
    at: HashMap<Want, String>,
    before: HashSet<Want>,
    added: HashMap<Want, String>,
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
async fn walk(esc: &Esc, env: &EnvRef, wants: &[Want], concurrency: usize) -> Result<Walk> {
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
    let mut changes = Walk::default();
    let mut pending: Vec<&Want> = wants.iter().collect();
    // The newer revision read: its date, number and values.
    let mut newer: Option<(Option<String>, u64, HashMap<Want, Held>)> = None;
    let mut before = pin.map(|n| n + 1);
    'pages: while !pending.is_empty() {
        let page = esc.revisions_before(&head, before, PAGE).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.number);
        let readable: Vec<&Revision> = page.iter().filter(|r| r.retracted.is_none()).collect();
        for batch in readable.chunks(concurrency.max(1)) {
            let opened = join_all(batch.iter().map(|r| values_at(esc, &head, r.number, &pending))).await;
            for (revision, values) in batch.iter().zip(opened) {
                let values = values?;
                match &newer {
                    Some((date, _, newer_values)) => pending.retain(|want| {
                        let same = newer_values.get(*want) == values.get(*want);
                        if !same && let Some(date) = date {
                            changes.at.insert((*want).clone(), date.clone());
                            if !values.contains_key(*want) {
                                changes.added.insert((*want).clone(), date.clone());
                            }
                        }
                        same
                    }),
                    // What the pin does not hold (an import's key it lacks) is
                    // not read from it, and has no change to look for.
                    None => pending.retain(|want| values.contains_key(*want)),
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
        for want in pending.into_iter().filter(|w| values.contains_key(*w)) {
            changes.at.insert(want.clone(), date.clone());
            if number == 1 {
                changes.added.insert(want.clone(), date.clone());
            } else {
                changes.before.insert(want.clone());
            }
        }
    }
    // A tag moved after the change: consumers of the tag saw it then.
    if let Some(moved) = moved.filter(|m| Timestamp::parse(m).is_some()) {
        for (want, at) in &mut changes.at {
            if Timestamp::parse(at).is_some_and(|t| Some(t) < Timestamp::parse(&moved)) {
                *at = moved.clone();
                changes.before.remove(want);
            }
        }
    }
    Ok(changes)
}

/// What an open of revision `number` returns of `wants`; each secret
/// variable registered for scrubbing, as a source's are.
async fn values_at(esc: &Esc, env: &EnvRef, number: u64, wants: &[&Want]) -> Result<HashMap<Want, Held>> {
    let at = EnvRef { version: Some(number.to_string()), ..env.clone() };
    let properties = esc.open(&at).await.with_context(|| format!("revision {number} of `{env}`"))?;
    let mut out = HashMap::new();
    for want in wants {
        if let Want::Property(key) = want
            && let Some((_, value)) = properties.iter().find(|(k, _)| k == key)
        {
            let mut secrets = Vec::new();
            secrets_in(value, false, &mut secrets);
            crate::secret::register_all(secrets);
            out.insert((*want).clone(), Held::Property(value.clone()));
        }
    }
    let (vars, _) = super::value::decode(properties);
    crate::secret::register_all(vars.iter().flat_map(|v| v.sensitive(false)));
    for var in vars {
        let want = Want::Var(var.name);
        if wants.contains(&&want) {
            out.insert(want, Held::Var(var.value));
        }
    }
    Ok(out)
}

/// The secret strings of a value, a secret's children secret too.
fn secrets_in<'v>(value: &'v Value, secret: bool, out: &mut Vec<&'v Secret>) {
    let secret = secret || value.secret;
    match &value.node {
        Node::String(text) if secret => out.push(text),
        Node::Array(items) => items.iter().for_each(|v| secrets_in(v, secret, out)),
        Node::Object(entries) => entries.iter().for_each(|(_, v)| secrets_in(v, secret, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::Changed::{At, Before, Undatable};

    #[test]
    fn the_newest_part_dates_a_value() {
        let (early, late) = ("2025-01-01T00:00:00Z".to_string(), "2025-02-01T00:00:00Z".to_string());
        assert_eq!(At(early.clone()).newest(At(late.clone())), At(late.clone()));
        assert_eq!(At(late.clone()).newest(Before(early.clone())), At(late.clone()));
        // A "changed before" bound newer than every change is still only a bound.
        assert_eq!(At(early.clone()).newest(Before(late.clone())), Before(late.clone()));
        assert_eq!(Before(late.clone()).newest(At(late.clone())), At(late.clone()));
        let why = Undatable("a provider".into());
        assert_eq!(At(late.clone()).newest(why.clone()), why);
        assert_eq!(why.clone().newest(At(late)), why);
    }

    #[test]
    fn a_property_s_secrets_are_found_for_scrubbing() {
        use super::{Node, Value, secrets_in};
        use crate::secret::Secret;
        let text = |t: &str, secret| Value { node: Node::String(Secret::new(t)), secret, unknown: false };
        let object = |entries: Vec<(&str, Value)>, secret| Value {
            node: Node::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
            secret,
            unknown: false,
        };
        let value = object(
            vec![
                ("plain", text("p", false)),
                ("own", text("s1", true)),
                ("under", object(vec![("inherited", text("s2", false))], true)),
            ],
            false,
        );
        let mut found = Vec::new();
        secrets_in(&value, false, &mut found);
        let found: Vec<&str> = found.iter().map(|s| s.expose()).collect();
        assert_eq!(found, ["s1", "s2"]);
    }
}
