//! The ledger (docs/routes.md, "The ledger"): for each sealed copy `sync` wrote (a
//! GitHub or Fly secret, whose value cannot be read back), a keyed
//! fingerprint of the value and the copy's own date read back after the
//! write, kept in the ESC environment the manifest's `ledger` line names.
//! `status` compares the source's current value with it, so a change no
//! revision dates (a provider, an import) is still seen, and a copy someone
//! else wrote is `drifted`. Never a value, never an unkeyed hash: the
//! fingerprint is HMAC-SHA256 under a random key kept, as a secret, in the
//! ledger environment itself.

use crate::error::{Failure, HttpError, Kind};
use crate::esc::value::{Node, Value};
use crate::esc::{EnvRef, Esc};
use crate::fleet::status::Status;
use crate::record::{Action, Outcome};
use crate::secret::{self, Secret};
use crate::settings::Context;
use crate::targets::github::{App, Store};
use crate::targets::{Options, Target, TargetSpec};
use crate::time::Moment;
use crate::vars::Var;
use crate::wiped::Wiped;
use crate::{error, ui};
use anyhow::Result;
use base64::Engine as _;
use std::collections::BTreeMap;
use std::path::Path;

/// The property of the ledger environment escort keeps it under.
const ROOT: &str = "escort-ledger";
/// Rounds of read, merge and write before concurrent syncs are reported.
const TRIES: usize = 3;

/// What escort wrote to one copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub fingerprint: String,
    /// The copy's own date right after the write, when the target gave one.
    pub at: Option<String>,
    /// The keyed fingerprint of the digest the target listed for the copy
    /// right after the write (Fly.io's `digest`, itself an unkeyed hash of
    /// the value, so never recorded as it is).
    pub digest: Option<String>,
}

/// The ledger as read: its key and a record per target and key.
#[derive(Default)]
pub struct Ledger {
    key: Option<Secret>,
    copies: BTreeMap<String, BTreeMap<String, Record>>,
}

/// One copy a sync wrote (`value`) or deleted (`None`), with the copy's date.
pub struct Written<'a> {
    pub target: String,
    pub key: String,
    pub value: Option<&'a Secret>,
    pub at: Option<String>,
    /// The target's digest of the copy (Fly.io), as it listed it.
    pub digest: Option<String>,
}

fn status_of(e: &anyhow::Error) -> Option<u16> {
    e.downcast_ref::<HttpError>().and_then(|h| h.status)
}

impl Ledger {
    /// The ledger in `env`; an environment that does not exist yet is an
    /// empty ledger (the first sync that writes creates it).
    pub async fn read(esc: &Esc, env: &EnvRef) -> Result<Ledger> {
        match esc.open(env).await {
            Ok(properties) => Ok(Ledger::from_properties(properties)),
            Err(e) if status_of(&e) == Some(404) => Ok(Ledger::default()),
            Err(e) => Err(e.context(format!("the ledger `esc:{env}`"))),
        }
    }

    fn from_properties(properties: Vec<(String, Value)>) -> Ledger {
        let mut ledger = Ledger::default();
        let Some((_, root)) = properties.into_iter().find(|(name, _)| name == ROOT) else { return ledger };
        let Node::Object(parts) = root.node else { return ledger };
        for (name, part) in parts {
            match (name.as_str(), part.node) {
                ("key", Node::String(key)) => {
                    secret::register(&key);
                    ledger.key = Some(key);
                }
                ("copies", Node::Object(targets)) => {
                    for (target, keys) in targets {
                        let Node::Object(keys) = keys.node else { continue };
                        let records = ledger.copies.entry(target).or_default();
                        for (key, text) in keys {
                            let Node::String(text) = text.node else { continue };
                            if let Some(record) = Record::parse(text.expose()) {
                                records.insert(key, record);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        ledger
    }

    pub fn record(&self, target: &str, key: &str) -> Option<&Record> {
        self.copies.get(target)?.get(key)
    }

    /// The status of a sealed copy the ledger has a record of (docs/routes.md, "escort
    /// status"): `stale` when the source's value is not the one written, else
    /// `drifted` when the copy's digest (Fly.io) is not the one read back
    /// after the write, whatever its date says; else `ok` when its date is
    /// still the one read back, `drifted` when it is not (someone else wrote
    /// it since). A recorded digest the copy still shows vouches for it where
    /// dates are missing. `None` when the ledger cannot tell (no key, neither
    /// date nor digest recorded): the caller dates it.
    pub fn status(&self, target: &str, copy: &Seen<'_>, value: &Secret) -> Option<Status> {
        let key = self.key.as_ref()?;
        let record = self.record(target, copy.key)?;
        if fingerprint(key, target, copy.key, value) != record.fingerprint {
            return Some(Status::Stale);
        }
        let digest = copy.digest.map(|d| digest_print(key, target, copy.key, d));
        let same_digest = match (&record.digest, &digest) {
            (Some(recorded), Some(now)) if recorded != now => return Some(Status::Drifted),
            (Some(_), Some(_)) => true,
            _ => false,
        };
        let at = |t: Option<&str>| t.and_then(Moment::parse);
        match (at(record.at.as_deref()), at(copy.updated_at)) {
            (Some(recorded), Some(now)) if recorded == now => Some(Status::Ok),
            (Some(_), Some(_)) => Some(Status::Drifted),
            _ if same_digest => Some(Status::Ok),
            (Some(_), None) => Some(Status::Drifted),
            (None, _) => None,
        }
    }

    /// Merge `written` in, making the key on first need.
    fn apply(&mut self, written: &[Written]) -> Result<()> {
        if self.key.is_none() {
            let mut bytes = [0u8; 32];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
                .map_err(|_| error::internal("could not draw a random key for the ledger"))?;
            let key = Secret::new(base64::engine::general_purpose::STANDARD.encode(bytes));
            bytes.fill(0);
            secret::register(&key);
            self.key = Some(key);
        }
        let key = self.key.as_ref().expect("made above");
        for w in written {
            let records = self.copies.entry(w.target.clone()).or_default();
            match w.value {
                Some(value) => {
                    let fingerprint = fingerprint(key, &w.target, &w.key, value);
                    let digest = w.digest.as_deref().map(|d| digest_print(key, &w.target, &w.key, d));
                    records.insert(w.key.clone(), Record { fingerprint, at: w.at.clone(), digest });
                }
                None => {
                    records.remove(&w.key);
                }
            }
        }
        self.copies.retain(|_, records| !records.is_empty());
        Ok(())
    }

    /// The ledger environment's whole definition (JSON is YAML): the key as
    /// `fn::secret`, which the service stores encrypted. The key's bytes go
    /// only into the wiped buffer returned; serde_json renders the rest
    /// (names, fingerprints and dates), which holds no secret.
    fn definition(&self) -> Result<Wiped<String>> {
        let copies: serde_json::Map<String, serde_json::Value> = self
            .copies
            .iter()
            .map(|(target, records)| {
                let records =
                    records.iter().map(|(key, r)| (key.clone(), serde_json::Value::String(r.text()))).collect();
                (target.clone(), serde_json::Value::Object(records))
            })
            .collect();
        let copies = serde_json::to_string(&copies)?;
        let key = self.key.as_ref().map(|k| k.expose()).unwrap_or_default();
        let (head, tail) = (format!("{{\"values\":{{\"{ROOT}\":{{\"key\":{{\"fn::secret\":"), "}}}\n");
        // Sized up front: a `\u00XX` is the longest a byte of the key becomes.
        let mut out =
            Wiped::new(String::with_capacity(head.len() + 6 * key.len() + 2 + 12 + copies.len() + tail.len()));
        out.push_str(&head);
        crate::sink::json::quote(key, &mut out);
        out.push_str("},\"copies\":");
        out.push_str(&copies);
        out.push_str(tail);
        Ok(out)
    }
}

impl Record {
    /// What a record is kept as: `FINGERPRINT [DATE] [digest=PRINT]`, fields
    /// apart by a space. A record of an older escort (no digest) reads as one
    /// the target gave no digest for.
    fn text(&self) -> String {
        let at = self.at.iter().map(String::as_str);
        let digest = self.digest.iter().map(|d| format!("{DIGEST}{d}"));
        std::iter::once(self.fingerprint.clone())
            .chain(at.map(str::to_string))
            .chain(digest)
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn parse(text: &str) -> Option<Record> {
        let mut fields = text.split(' ').filter(|f| !f.is_empty());
        let mut record = Record { fingerprint: fields.next()?.to_string(), at: None, digest: None };
        for field in fields {
            match field.strip_prefix(DIGEST) {
                Some(digest) => record.digest = Some(digest.to_string()),
                None => record.at = Some(field.to_string()),
            }
        }
        Some(record)
    }
}

/// A sealed copy as its target lists it, for the ledger to judge.
pub struct Seen<'a> {
    pub key: &'a str,
    pub updated_at: Option<&'a str>,
    /// The target's digest of the value (Fly.io), when it gives one.
    pub digest: Option<&'a str>,
}

/// Marks the digest field of a record.
const DIGEST: &str = "digest=";

/// The fingerprint of a target's digest of a copy: keyed like a value's (the
/// digest is an unkeyed hash of the value), bound to being a digest.
fn digest_print(key: &Secret, target: &str, name: &str, digest: &str) -> String {
    fingerprint(key, &format!("{target}\0digest"), name, &Secret::new(digest.to_string()))
}

/// HMAC-SHA256 under the ledger's key of the target, the key's name and the
/// value: equal values in two places do not show as equal fingerprints.
fn fingerprint(key: &Secret, target: &str, name: &str, value: &Secret) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.expose().as_bytes());
    let mut context = ring::hmac::Context::with_key(&key);
    for part in [target.as_bytes(), b"\0", name.as_bytes(), b"\0", value.expose().as_bytes()] {
        context.update(part);
    }
    context.sign().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Record what a sync wrote: one revision of the ledger environment, written
/// with its ETag; on a 409 read again, merge, retry. Nothing written, no
/// request. The first write creates the environment.
pub async fn record(esc: &Esc, env: &EnvRef, written: &[Written<'_>]) -> Result<()> {
    if written.is_empty() {
        return Ok(());
    }
    // Deletions only, of copies it has no record of: nothing to change.
    if written.iter().all(|w| w.value.is_none()) {
        let ledger = Ledger::read(esc, env).await?;
        if written.iter().all(|w| ledger.record(&w.target, &w.key).is_none()) {
            return Ok(());
        }
    }
    for attempt in 1..=TRIES {
        let etag = match esc.definition(env).await {
            Ok((_, etag)) => etag,
            Err(e) if status_of(&e) == Some(404) => {
                match esc.create(env).await {
                    // Someone else created it in between: theirs is as good.
                    Err(e) if status_of(&e) != Some(409) => return Err(e),
                    _ => {}
                }
                esc.definition(env).await?.1
            }
            Err(e) => return Err(e),
        };
        let etag = etag.ok_or_else(|| {
            error::backend(format!("ESC sent the ledger `esc:{env}` without an ETag: escort writes only with one"))
        })?;
        // Read after the ETag: a change in between makes the write a 409.
        let mut ledger = Ledger::read(esc, env).await?;
        ledger.apply(written)?;
        match esc.update_definition(env, &ledger.definition()?, &etag).await {
            Ok(()) => return Ok(()),
            Err(e) if status_of(&e) == Some(409) && attempt < TRIES => {
                ui::note(&format!("the ledger `esc:{env}` changed while escort was writing to it: reading it again"));
            }
            Err(e) => return Err(e),
        }
    }
    Err(error::backend(format!(
        "the ledger `esc:{env}` was changed by someone else each of the {TRIES} times escort tried to record its writes"
    )))
}

/// What one sync wrote to a sealed copy, `target` (its spec as the routes
/// name it), from the outcomes of its writes: each value written with the
/// copy's date, read back in one listing after the writes; each deletion.
pub async fn written<'a>(
    target: &str,
    copy: &dyn Target,
    outcomes: &[Outcome],
    vars: &'a [Var],
) -> Result<Vec<Written<'a>>> {
    let done: Vec<(&Outcome, Action)> =
        outcomes.iter().filter_map(|o| o.result.as_ref().ok().filter(|a| a.changes()).map(|a| (o, *a))).collect();
    if done.is_empty() {
        return Ok(Vec::new());
    }
    // Dates only for what was written: deletions need no listing.
    let wrote = done.iter().any(|(_, action)| *action != Action::Delete);
    let listed = if wrote { copy.list(false).await? } else { Vec::new() };
    let stamp = |name: &str| {
        let name = copy.canonical(name);
        listed.iter().find(|e| copy.canonical(&e.name) == name).map(|e| (e.updated_at.clone(), e.digest.clone()))
    };
    Ok(done
        .into_iter()
        .filter_map(|(o, action)| {
            let value = match action {
                Action::Delete => None,
                _ => Some(&vars.iter().find(|v| v.name == o.name)?.value),
            };
            let (at, digest) = value.and(stamp(&o.name)).unwrap_or_default();
            Some(Written { target: target.to_string(), key: o.name.clone(), value, at, digest })
        })
        .collect())
}

/// The ledger a one-off `sync --from/--to`, `set` or `rm` records its writes
/// in (docs/routes.md, "The ledger"), made before anything is written, so that
/// a manifest that cannot be read or a missing ESC token stops it first.
pub struct OneOff {
    esc: Esc,
    env: EnvRef,
}

impl OneOff {
    /// The `ledger` of the manifest `status` reads (`manifest::locate`; none
    /// there, or a `.env.example`, has no ledger), for a sealed target
    /// (GitHub secrets, Fly.io) written with the default `--app`: the ledger
    /// names a copy by its target as a route names it, which does not say the
    /// app. `None`: nothing to record.
    pub fn find(given: Option<&Path>, spec: &TargetSpec, app: Option<App>, ctx: &Context) -> Result<Option<OneOff>> {
        let sealed = matches!(spec, TargetSpec::GitHub(_, Store::Secrets) | TargetSpec::Fly(_));
        if !sealed || app.is_some() {
            return Ok(None);
        }
        // Its only error: no manifest was given and none is there.
        let Ok(path) = crate::manifest::locate(given.map(Path::to_path_buf)) else { return Ok(None) };
        // Only a TOML manifest can name a ledger: a `.env.example` is not read for one.
        if path.extension().is_none_or(|e| e != "toml") {
            return Ok(None);
        }
        let Some(env) = crate::manifest::load(&path)?.ledger else { return Ok(None) };
        Ok(Some(OneOff { esc: Esc::new(ctx)?, env }))
    }

    pub async fn read(&self) -> Result<Ledger> {
        Ledger::read(&self.esc, &self.env).await
    }

    /// Record what the command did to `spec` (`outcomes`, the values from
    /// `vars`), its dates read back from the target opened afresh (an
    /// earlier listing predates the writes). An error says what was written
    /// and not recorded: a partial result (exit 4).
    pub async fn record(
        &self,
        spec: &TargetSpec,
        options: &Options,
        outcomes: &[Outcome],
        vars: &[Var],
        ctx: &Context,
    ) -> Result<()> {
        let recorded = async {
            let fresh = crate::targets::open(spec, options, ctx)?;
            let written = written(&spec.to_string(), &*fresh, outcomes, vars).await?;
            record(&self.esc, &self.env, &written).await
        };
        recorded.await.map_err(|e| {
            Failure {
                kind: Kind::Partial,
                message: format!(
                    "the {spec} was written, but the ledger `esc:{}` could not record it (its copies show `drifted` \
                     until a sync of their route): {}",
                    self.env,
                    secret::scrub(&format!("{e:#}"))
                ),
            }
            .into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_keyed_and_bound_to_their_place() {
        let (k1, k2, v) = (Secret::new("key-one"), Secret::new("key-two"), Secret::new("value"));
        let f = fingerprint(&k1, "github:a/b", "A", &v);
        assert_eq!(f.len(), 64);
        assert_ne!(f, fingerprint(&k2, "github:a/b", "A", &v), "another key, another fingerprint");
        assert_ne!(f, fingerprint(&k1, "github:a/b", "B", &v), "the same value under another name");
        assert_ne!(f, fingerprint(&k1, "github:a/c", "A", &v));
        assert_eq!(f, fingerprint(&k1, "github:a/b", "A", &v));
    }

    fn seen<'a>(key: &'a str, updated_at: Option<&'a str>, digest: Option<&'a str>) -> Seen<'a> {
        Seen { key, updated_at, digest }
    }

    fn written<'a>(value: Option<&'a Secret>, at: Option<&str>, digest: Option<&str>) -> Written<'a> {
        let (at, digest) = (at.map(String::from), digest.map(String::from));
        Written { target: "t".into(), key: "K".into(), value, at, digest }
    }

    #[test]
    fn statuses_from_a_record() {
        let mut ledger = Ledger::default();
        let (v, other) = (Secret::new("v"), Secret::new("w"));
        let at = Some("2026-01-01T00:00:00Z");
        ledger.apply(&[written(Some(&v), at, None)]).unwrap();
        assert_eq!(ledger.status("t", &seen("K", at, None), &v), Some(Status::Ok));
        assert_eq!(ledger.status("t", &seen("K", at, None), &other), Some(Status::Stale));
        assert_eq!(ledger.status("t", &seen("K", Some("2026-01-02T00:00:00Z"), None), &v), Some(Status::Drifted));
        assert_eq!(ledger.status("t", &seen("OTHER", at, None), &v), None);
        let text = ledger.definition().unwrap();
        assert!(!text.contains("\"v\""), "{}", text.as_str());
        ledger.apply(&[written(None, None, None)]).unwrap();
        assert_eq!(ledger.record("t", "K"), None);
    }

    #[test]
    fn the_definition_carries_the_key_in_a_wiped_buffer_and_reads_back() {
        let mut ledger = Ledger { key: Some(Secret::new("k\"ey\\\n\u{1}é")), ..Ledger::default() };
        let v = Secret::new("value");
        let at = Some("2026-01-01T00:00:00Z".to_string());
        ledger
            .apply(&[Written { target: "github:a/b".into(), key: "K".into(), value: Some(&v), at, digest: None }])
            .unwrap();
        let text: Wiped<String> = ledger.definition().unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        let root = &parsed["values"][ROOT];
        assert_eq!(root["key"]["fn::secret"], "k\"ey\\\n\u{1}é");
        let record = root["copies"]["github:a/b"]["K"].as_str().unwrap();
        let fingerprint = fingerprint(ledger.key.as_ref().unwrap(), "github:a/b", "K", &v);
        assert_eq!(record, format!("{fingerprint} 2026-01-01T00:00:00Z"));
        assert_eq!(parsed.as_object().unwrap().len(), 1, "{parsed}");
    }

    /// Fly.io lists a digest of each value: one other than the recorded is
    /// `drifted` whatever the dates say, and the recorded one vouches for a
    /// copy without dates. The ledger keeps it keyed, never as listed.
    #[test]
    fn a_digest_other_than_the_recorded_is_drifted() {
        let mut ledger = Ledger::default();
        let v = Secret::new("v");
        let at = Some("2026-01-01T00:00:00.250Z");
        ledger.apply(&[written(Some(&v), at, Some("0123456789abcdef"))]).unwrap();
        assert_eq!(ledger.status("t", &seen("K", at, Some("0123456789abcdef")), &v), Some(Status::Ok));
        assert_eq!(ledger.status("t", &seen("K", at, Some("fedcba9876543210")), &v), Some(Status::Drifted));
        assert_eq!(ledger.status("t", &seen("K", None, Some("fedcba9876543210")), &v), Some(Status::Drifted));
        assert_eq!(ledger.status("t", &seen("K", None, Some("0123456789abcdef")), &v), Some(Status::Ok));
        assert_eq!(ledger.status("t", &seen("K", None, None), &v), Some(Status::Drifted));
        ledger.apply(&[written(Some(&v), None, Some("0123456789abcdef"))]).unwrap();
        assert_eq!(ledger.status("t", &seen("K", None, Some("0123456789abcdef")), &v), Some(Status::Ok));
        assert_eq!(ledger.status("t", &seen("K", at, Some("fedcba9876543210")), &v), Some(Status::Drifted));
        assert_eq!(ledger.status("t", &seen("K", at, None), &v), None, "nothing to compare: dated instead");
        let text = ledger.definition().unwrap();
        assert!(!text.contains("0123456789abcdef"), "the digest as listed: {}", text.as_str());
    }

    #[test]
    fn records_read_back_and_older_ones_still_read() {
        let full =
            Record { fingerprint: "f".into(), at: Some("2026-01-01T00:00:00Z".into()), digest: Some("d".into()) };
        assert_eq!(full.text(), "f 2026-01-01T00:00:00Z digest=d");
        for record in [
            full.clone(),
            Record { digest: None, ..full.clone() },
            Record { at: None, ..full.clone() },
            Record { at: None, digest: None, ..full },
        ] {
            assert_eq!(Record::parse(&record.text()), Some(record));
        }
        // What an escort before digests wrote.
        let old = Record::parse("f 2026-01-01T00:00:00Z").unwrap();
        assert_eq!((old.at.as_deref(), old.digest), (Some("2026-01-01T00:00:00Z"), None));
        assert_eq!(Record::parse(""), None);
    }
}
