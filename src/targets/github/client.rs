//! The GitHub client behind the target: the listing, the public key, the
//! repository ids, and the writes of secrets, each made at most once per run.

use super::scope::{Level, Scope, Store, Visibility};
use super::seal::RecipientKey;
use crate::http::{Auth, Http, Request};
use crate::record::{Action, Entry, Outcome, Progress};
use crate::secret::Secret;
use crate::settings::Context;
use crate::targets::common::{Options, Target};
use crate::vars::Var;
use crate::{error, json};
use anyhow::Result;
use crypto_box::aead::OsRng;
use futures_util::{StreamExt, stream};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::future::Future;
use tokio::sync::OnceCell;

const API_VERSION: &str = "2022-11-28";

pub struct GitHub {
    pub(super) http: Http,
    pub(super) api: Url,
    pub(super) token: Secret,
    /// Where the token came from, named when it is refused.
    pub(super) token_from: String,
    pub(super) scope: Scope,
    pub(super) visibility: Option<Visibility>,
    pub(super) repos: Vec<String>,
    pub(super) concurrency: usize,
    // Each fetched at most once per run.
    pub(super) key: OnceCell<RecipientKey>,
    pub(super) listed: OnceCell<Vec<Listed>>,
    pub(super) repo_ids: OnceCell<Vec<u64>>,
}

/// What `GitHub::repository_listing` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepoListing {
    Environments,
    OrganizationSecrets,
}

/// One secret or variable as the listing has it; only variables have a value.
pub(super) struct Listed {
    pub(super) entry: Entry,
    pub(super) value: Option<Secret>,
}

/// A page of secrets, of variables or of a repository's environments: the
/// same but for the list's name (an environment has a name and dates too).
#[derive(Deserialize)]
struct Page {
    total_count: u64,
    #[serde(rename = "secrets", alias = "variables", alias = "environments")]
    items: Vec<ListedItem>,
}

#[derive(Deserialize)]
pub(super) struct ListedItem {
    name: String,
    created_at: Option<String>,
    updated_at: Option<String>,
    visibility: Option<String>,
    value: Option<String>,
}

/// GitHub holds at most this many secrets, or variables, in one scope.
pub(crate) const MOST_LISTED: u64 = 1_000;

/// A listing's pages, checked as they come: the server is not trusted to end
/// it (docs/security.md). More than GitHub can hold, a page larger than asked
/// for, or a page of nothing new is an error naming the listing, never a
/// silent truncation: a partial listing would make `status` and pruning wrong.
struct Pages {
    op: String,
    per_page: usize,
    /// Pages read so far.
    count: usize,
    listed: Vec<Listed>,
}

impl Pages {
    fn new(op: String, per_page: usize) -> Pages {
        Pages { op, per_page, count: 0, listed: Vec::new() }
    }

    /// Add the next page's body; whether another page is to be read. A name
    /// sent twice is kept once (the first).
    fn add(&mut self, body: &[u8]) -> Result<bool> {
        let page: Page = json::decode(&self.op, body)?;
        self.count += 1;
        let fail =
            |what: String| Err(error::backend(format!("{}: {what}: refusing a listing that may be wrong", self.op)));
        let n = page.items.len();
        if n > self.per_page {
            return fail(format!("page {} has {n} entries, more than the {} asked for", self.count, self.per_page));
        }
        if page.total_count > MOST_LISTED {
            return fail(format!("the server counts {} entries; GitHub holds at most {MOST_LISTED}", page.total_count));
        }
        let before = self.listed.len();
        for item in page.items {
            if self.listed.iter().any(|l| l.entry.name.eq_ignore_ascii_case(&item.name)) {
                continue;
            }
            self.listed.push(Listed {
                entry: Entry {
                    name: item.name,
                    created_at: item.created_at,
                    updated_at: item.updated_at,
                    visibility: item.visibility,
                    ..Entry::default()
                },
                value: item.value.map(Secret::new),
            });
        }
        if n > 0 && self.listed.len() == before {
            return fail(format!("page {} repeats names already listed", self.count));
        }
        if self.listed.len() as u64 > MOST_LISTED {
            return fail(format!("more than {MOST_LISTED} entries; GitHub holds at most {MOST_LISTED}"));
        }
        Ok(n == self.per_page && (self.listed.len() as u64) < page.total_count)
    }
}

/// A listing of `per_page` entries a page read from `bodies`, as `listing`
/// reads the server's (for `escort::fuzz` and tests): the names, and the
/// number of pages read.
pub(crate) fn list_pages<'a>(
    per_page: usize,
    bodies: impl IntoIterator<Item = &'a [u8]>,
) -> (Result<Vec<String>>, usize) {
    let mut pages = Pages::new("list the secrets".into(), per_page);
    for body in bodies {
        match pages.add(body) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return (Err(e), pages.count),
        }
    }
    let count = pages.count;
    (Ok(pages.listed.into_iter().map(|l| l.entry.name).collect()), count)
}

#[derive(Deserialize)]
struct PublicKey {
    key_id: String,
    key: String,
}

#[derive(Deserialize)]
struct Count {
    total_count: u64,
}

#[derive(Deserialize)]
struct Repository {
    id: u64,
}

#[derive(Serialize)]
struct PutBody<'a> {
    encrypted_value: String,
    key_id: &'a str,
    #[serde(flatten)]
    access: Access<'a>,
}

/// Who may read an organization (or user) secret or variable, where sent.
#[derive(Serialize)]
pub(super) struct Access<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) visibility: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) selected_repository_ids: Option<&'a [u64]>,
}

impl GitHub {
    /// The secrets or variables of `level`, with the GitHub token and API base
    /// of the settings. Options that cannot apply are refused, not ignored.
    pub fn open(level: Level, store: Store, options: &Options, ctx: &Context) -> Result<Self> {
        let scope = Scope::new(level, options.app, store)?;
        scope.check_access(options.visibility, &options.repos)?;
        let github = &ctx.settings.github;
        Ok(GitHub {
            http: ctx.http()?,
            api: github.api_url("GITHUB_API_URL")?,
            token: github.token("no GitHub token: set GITHUB_TOKEN (or GH_TOKEN)")?.clone(),
            token_from: github.token_source(),
            scope,
            visibility: options.visibility,
            repos: options.repos.iter().map(|r| r.trim().to_string()).collect(),
            concurrency: options.concurrency.max(1),
            key: OnceCell::new(),
            listed: OnceCell::new(),
            repo_ids: OnceCell::new(),
        })
    }

    /// A request to `API/SEGMENTS...`. Each segment is percent-encoded on its
    /// own, and the URL must end with exactly those segments: a `.` or `..`
    /// (an environment, or a name a listing sent) would be dropped or climb
    /// to another path, so it is refused before anything is sent.
    pub(super) fn request(
        &self,
        op: String,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Request<'_>> {
        let mut url = self.api.clone();
        url.path_segments_mut().expect("checked in open: a base URL").pop_if_empty().extend(segments);
        let base = self.api.path_segments().map_or(0, |s| s.filter(|s| !s.is_empty()).count());
        if segments.iter().any(|s| matches!(*s, "." | ".."))
            || url.path_segments().map_or(0, Iterator::count) != base + segments.len()
        {
            return Err(error::usage(format!(
                "{op}: a name in the path is `.` or `..`, which would send it elsewhere"
            )));
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(Request::new(op, method, url.to_string())
            .auth(Auth::Scheme("Bearer", &self.token))
            .token_from(&self.token_from)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", API_VERSION))
    }

    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        op: String,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<T> {
        let resp = self.http.send(self.request(op.clone(), Method::GET, segments, query)?).await?;
        json::decode(&op, &resp.body)
    }

    /// Every secret or variable of the scope, following pages until `total_count`.
    pub(super) async fn listing(&self) -> Result<&[Listed]> {
        let listed = self
            .listed
            .get_or_try_init(|| async {
                let op = format!("list the {}", self.scope);
                self.pages(op, &self.scope.path(&[]), self.scope.store.per_page()).await
            })
            .await?;
        Ok(listed)
    }

    /// Every entry of the listing at `path`, `per_page` a page, checked as it comes.
    async fn pages(&self, op: String, path: &[&str], per_page: usize) -> Result<Vec<Listed>> {
        let mut pages = Pages::new(op, per_page);
        let size = pages.per_page.to_string();
        loop {
            let page = (pages.count + 1).to_string();
            let query = [("per_page", size.as_str()), ("page", page.as_str())];
            let resp = self.http.send(self.request(pages.op.clone(), Method::GET, path, &query)?).await?;
            if !pages.add(&resp.body)? {
                return Ok(pages.listed);
            }
        }
    }

    /// Of a repository's scope: the names of its environments (`GET
    /// /repos/O/R/environments`), or the organization's Actions secrets it
    /// may read (`GET /repos/O/R/actions/organization-secrets`), 100 a page
    /// (GitHub's largest). What a shadowed organization copy is told by
    /// (docs/routes.md, "escort status").
    pub async fn repository_listing(&self, of: RepoListing) -> Result<Vec<String>> {
        let Level::Repo { owner, repo } = &self.scope.level else {
            return Err(error::internal("a repository listing of a scope that is no repository"));
        };
        let (what, path): (&str, &[&str]) = match of {
            RepoListing::Environments => ("the environments", &["environments"]),
            RepoListing::OrganizationSecrets => {
                ("the organization secrets granted to", &["actions", "organization-secrets"])
            }
        };
        let path: Vec<&str> =
            ["repos", owner.as_str(), repo.as_str()].into_iter().chain(path.iter().copied()).collect();
        let listed = self.pages(format!("list {what} {owner}/{repo}"), &path, 100).await?;
        Ok(listed.into_iter().map(|l| l.entry.name).collect())
    }

    pub(super) async fn key(&self) -> Result<&RecipientKey> {
        self.key
            .get_or_try_init(|| async {
                let op = format!("get the public key of the {}", self.scope);
                let key: PublicKey = self.get(op, &self.scope.path(&["public-key"]), &[]).await?;
                RecipientKey::parse(key.key_id, &key.key, &self.scope.to_string())
            })
            .await
    }

    /// The ids of the repositories in `--repos`, looked up once.
    pub(super) async fn repo_ids(&self) -> Result<Option<&[u64]>> {
        if self.repos.is_empty() {
            return Ok(None);
        }
        let ids = self
            .repo_ids
            .get_or_try_init(|| async {
                let mut ids = Vec::new();
                for name in &self.repos {
                    let (owner, repo) = match name.split_once('/') {
                        Some(pair) => pair,
                        None => (
                            self.scope.org().expect("bare names only for organizations (checked in open)"),
                            name.as_str(),
                        ),
                    };
                    let op = format!("find repository {owner}/{repo} (from --repos)");
                    let found: Repository = self.get(op, &["repos", owner, repo], &[]).await?;
                    ids.push(found.id);
                }
                Ok::<_, anyhow::Error>(ids)
            })
            .await?;
        Ok(Some(ids))
    }

    /// The visibility the flags ask for: `--visibility`, else `selected` with `--repos`.
    pub(super) fn asked_visibility(&self) -> Option<Visibility> {
        self.visibility.or((!self.repos.is_empty()).then_some(Visibility::Selected))
    }

    /// What the listing has under `name` (GitHub ignores case).
    pub(super) fn find<'a>(&self, existing: &'a [Listed], name: &str) -> Option<&'a Listed> {
        let canonical = self.canonical(name);
        existing.iter().find(|l| self.canonical(&l.entry.name) == canonical)
    }

    /// The visibility to send for an organization secret: the flag, else
    /// `selected` with --repos, else what the secret has now, else private.
    /// Never wider than asked: an update must not open a secret up.
    pub(super) fn visibility_for(&self, name: &str, existing: &[Listed]) -> Visibility {
        self.asked_visibility()
            .or_else(|| self.find(existing, name)?.entry.visibility.as_deref()?.parse().ok())
            .unwrap_or(Visibility::Private)
    }

    pub(super) async fn put_one(
        &self,
        var: &Var,
        key: &RecipientKey,
        ids: Option<&[u64]>,
        existing: &[Listed],
    ) -> Result<Action> {
        let (visibility, ids) = match self.scope.level {
            Level::Org(_) => {
                let visibility = self.visibility_for(&var.name, existing);
                // GitHub takes repository ids only with `selected`.
                (Some(visibility.as_str()), ids.filter(|_| visibility == Visibility::Selected))
            }
            Level::User => (None, ids),
            _ => (None, None),
        };
        let body = PutBody {
            encrypted_value: key.seal(var.value.expose().as_bytes(), &mut OsRng)?,
            key_id: &key.id,
            access: Access { visibility, selected_repository_ids: ids },
        };
        let op = format!("write secret {} to the {}", var.name, self.scope);
        let req = self
            .request(op, Method::PUT, &self.scope.path(&[&var.name]), &[])?
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body)?)
            // Writing the same value again is harmless.
            .retry(true);
        let resp = self.http.send(req).await?;
        Ok(if resp.status == 201 { Action::Create } else { Action::Update })
    }

    pub(super) async fn delete_one(&self, name: &str) -> Result<Action> {
        let op = format!("delete {} {name} from the {}", self.scope.store.noun(), self.scope);
        let req = self.request(op, Method::DELETE, &self.scope.path(&[name]), &[])?.retry(true);
        self.http.send(req).await?;
        Ok(Action::Delete)
    }

    pub(super) async fn put_secrets(&self, vars: &[Var], progress: Progress<'_>) -> Result<Vec<Outcome>> {
        // What every write needs comes first, so that a bad token or an
        // unknown repository is one error rather than one per secret.
        let key = self.key().await?;
        let ids = self.repo_ids().await?;
        let needs_existing = self.scope.level.has_visibility() && self.asked_visibility().is_none();
        let existing = if needs_existing { self.listing().await? } else { &[] };
        Ok(bounded(vars, self.concurrency, progress, |v| async move {
            Outcome { name: v.name.clone(), result: self.put_one(v, key, ids, existing).await }
        })
        .await)
    }

    /// How many repositories may read each `selected` secret or variable.
    pub(super) async fn count_repos(&self, entries: &mut [Entry]) -> Result<()> {
        let lookups: Vec<_> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.visibility.as_deref() == Some("selected"))
            .map(|(i, e)| async move {
                let op = format!("count the repositories that may read {} ({})", e.name, self.scope);
                let count: Result<Count> = self.get(op, &self.scope.path(&[&e.name, "repositories"]), &[]).await;
                (i, count.map(|c| c.total_count))
            })
            .collect();
        let counts: Vec<(usize, Result<u64>)> =
            stream::iter(lookups).buffer_unordered(self.concurrency).collect().await;
        for (i, count) in counts {
            entries[i].selected_repositories = Some(count?);
        }
        Ok(())
    }
}

/// Run `op` on each item, at most `limit` at once; report each outcome as it
/// comes and return them in the items' order.
pub(super) async fn bounded<'a, T, F, Fut>(items: &'a [T], limit: usize, progress: Progress<'_>, op: F) -> Vec<Outcome>
where
    F: Fn(&'a T) -> Fut,
    Fut: Future<Output = Outcome>,
{
    // Futures built up front (they start only when polled): stream
    // combinators holding closures over borrowed items trip the compiler's
    // `Send` check of the boxed future.
    let jobs: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let job = op(item);
            async move { (i, job.await) }
        })
        .collect();
    let mut running = stream::iter(jobs).buffer_unordered(limit.max(1));
    let mut done = Vec::with_capacity(items.len());
    while let Some((i, outcome)) = running.next().await {
        progress(&outcome);
        done.push((i, outcome));
    }
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, outcome)| outcome).collect()
}
