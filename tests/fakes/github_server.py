#!/usr/bin/env python3
"""A fake GitHub REST API, secrets and Actions variables endpoints only, for escort's tests and
benchmarks.

Test support only. Python 3 standard library plus PyNaCl: run it with the peers' Python
(target/peers/venv/bin/python, made by scripts/setup-peers.sh). It speaks the part of
specs/github-secrets.openapi.json that escort uses: the secrets of repositories, environments,
organizations and the authenticated user, for Actions, Codespaces and Dependabot; public keys;
repository lookup; a repository's environments (`GET /repos/O/R/environments`, at most 100 a
page) and the organization secrets it may read (`GET /repos/O/R/actions/organization-secrets`:
visibility `all`, `private` for a private repository, `selected` with its id; by name, at most
100 a page). And specs/github-variables.openapi.json: the Actions variables of
repositories, environments and organizations (list with `total_count`, at most 30 a page; get;
create, 201; update by PATCH, 204, which may rename; delete, 204; an organization variable's
`visibility` and `selected_repository_ids`). Values arrive as libsodium sealed boxes: the fake opens each one with its own
private key (PyNaCl's SealedBox), answers 422 to one that does not open, and shows the plaintext on
a control endpoint so tests can compare what was stored with what was sent.

Usage:
    python tests/fakes/github_server.py --state STATE.json [--port 0] [--host 127.0.0.1]
                                        [--no-stdin-watch] [--verbose]

Paths may carry GitHub Enterprise Server's `/api/v3` prefix. It binds a loopback address only,
prints exactly one line `READY http://127.0.0.1:PORT` to stdout when listening, and exits when its
stdin reaches EOF, on SIGTERM and on SIGINT. Nothing else goes to stdout; --verbose logs request
lines (never headers) to stderr. Tokens are never logged: the request log says whether the
Authorization header was "present" (right), "wrong" or "absent".

State file (JSON):
    {
      "token": "ghp-test",                 # required: `Authorization: Bearer ghp-test` (or `token ...`)
      "private_key": "BASE64",             # optional: the 32-byte X25519 private key (default: random)
      "key_id": "3380204578043523366",     # optional
      "public_key": null,                  # optional: served instead of the real key (e.g. 33 bytes)
      "user": "octocat",                   # the token's user (GET /user)
      "orgs": ["acme"],                    # organizations that exist
      "repos": {"acme/app": {"id": 1296269, "environments": ["prod"], "private": true}},
      "secrets": {                         # existing secrets per scope, in plaintext
        "repos/acme/app/actions": {"OLD": {"value": "x"}},
        "repos/acme/app/environments/prod": {},
        "orgs/acme/dependabot": {"TOK": {"value": "x", "visibility": "selected",
                                          "selected_repository_ids": [1296269]}},
        "user/codespaces": {}
      },
      "variables": {                       # existing Actions variables per scope (same scope names)
        "repos/acme/app/actions": {"LOG_LEVEL": {"value": "info", "updated_at": "2024-01-01T00:00:00Z"}},
        "orgs/acme/actions": {"REGION": {"value": "eu", "visibility": "private"}}
      },
      "latency_ms": 0,                     # added to every API request (benchmarks)
      "clock": null,                       # "2026-11-29T00:00:00Z": stamp writes with this time
      "hold_until_in_flight": null,        # N: hold writes (not GETs) until N requests are in
                                           # flight at once (then never again; 30 s at most),
                                           # so a test sees the client's concurrency, not timing
      "validate_with": null,               # a Prism mock's URL: every API request is also sent
                                           # there and its verdict logged as `violations`
      "faults": []
    }
A scope is `repos/OWNER/REPO/APP`, `repos/OWNER/REPO/environments/ENV`, `orgs/ORG/APP` or
`user/codespaces` (variables: APP is `actions`, and no user). Names are kept in upper case, as
GitHub does. Every write sets the item's `updated_at` (and a new item's `created_at`) to now.

GitHub's count limits are enforced (LIMITS): a write that would create the 101st secret of a
repository or environment (1,001st of an organization), or the 501st variable of a repository
(101st of an environment, 1,001st of an organization) is refused with 422 naming the limit,
and nothing is written. Updating an existing item is always allowed. The state may hold more
(a scope already over its limit, as after GitHub lowered one); it is served as it is.

Faults (POST /_fake/faults with a JSON list replaces them; the first matching fault with `times`
left is applied and decremented; -1 = forever):
    {"method": "PUT",           # optional: only this method
     "path_contains": "/FOO",   # optional: only paths containing this
     "status": 503, "times": 1,
     "message": "...",          # optional: the body's `message`
     "retry_after": "1",        # optional: Retry-After header
     "ratelimit_reset": false,  # optional: x-ratelimit-remaining: 0, x-ratelimit-reset: now+1
     "delay_ms": 0,
     "barrier": null,           # N: hold each matching request until N of them have arrived
     "hold": false}             # hold the request until a later one of the same method is answered
Request log entries carry `at`: the fake's monotonic clock (seconds) when the request arrived.

Control endpoints (no auth, not logged):
    POST /_fake/faults, GET /_fake/requests, POST /_fake/reset-log,
    GET  /_fake/secrets   -> {scope: {NAME: {value, visibility, selected_repository_ids,
                                              created_at, updated_at}}}  (values decrypted)
    GET  /_fake/variables -> the same for variables
    PUT  /_fake/variables {"scope", "name", "value"}: an edit made outside escort (updated_at: now)
    PUT  /_fake/secrets   {"scope", "name", "value"}: the same for a secret (someone else's write;
                          count limits apply as to any write)
    GET  /_fake/stats     -> {"requests": N, "max_in_flight": N}
    POST /_fake/validate  {"method", "path", "body"} -> {"violations": [...]} (needs validate_with)
"""

import base64
import binascii
import copy
import http
import json
import re
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import fakelib
from fakelib import BadState, dumps

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

JSON = "application/json"
APPS = ("actions", "codespaces", "dependabot")
# GitHub's largest page of each.
PER_PAGE = {"secrets": 100, "variables": 30}
VISIBILITIES = ("all", "private", "selected")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_VALUE = 48 * 1024
DOCS = "https://docs.github.com/rest"
LOGGED_HEADERS = ("accept", "user-agent", "x-github-api-version", "content-type")
B64_RE = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$")
# GitHub's documented count limits, by store and kind of scope ("Limits for secrets",
# "Limits for configuration variables"). Codespaces and Dependabot secrets are held to the same
# numbers as Actions secrets here.
LIMITS = {
    "secrets": {"repository": 100, "environment": 100, "organization": 1000, "user": 100},
    "variables": {"repository": 500, "environment": 100, "organization": 1000},
}


def scope_kind(scope):
    if scope.startswith("orgs/"):
        return "organization"
    if scope.startswith("user/"):
        return "user"
    return "environment" if "/environments/" in scope else "repository"


def over_limit(store, scope, items, name):
    """The refusal of a write that would create one more than the scope may hold, else None.
    Assumption (the live answer is not documented): 422 naming the limit; nothing is written."""
    kind = scope_kind(scope)
    limit = LIMITS[store][kind]
    if name in items or len(items) < limit:
        return None
    what = "secrets" if store == "secrets" else "variables"
    return _err(422, f"Validation Failed: a{'n' if kind[0] in 'aeiou' else ''} {kind} can have at most "
                     f"{limit} {what}")






def _now(st):
    """The time stamped on a write: the state's `clock` when it has one (a test that pins
    escort's clock with ESCORT_NOW gives the fake the same one), else the real clock."""
    return st.clock or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _err(status, message):
    return status, {"Content-Type": JSON}, dumps({"message": message, "documentation_url": DOCS})


def _body(body, allowed, kind):
    """-> (the request's JSON object, None), or (None, the answer refusing it)."""
    try:
        req = json.loads(body)
    except ValueError:
        return None, _err(400, "Problems parsing JSON")
    if not isinstance(req, dict):
        return None, _err(400, "Problems parsing JSON")
    extra = set(req) - allowed
    if extra:
        return None, _err(422, f"unexpected fields for this kind of {kind}: {sorted(extra)}")
    return req, None


def _ok(obj, status=200, headers=None):
    hs = {"Content-Type": JSON}
    hs.update(headers or {})
    return status, hs, dumps(obj)


class State(fakelib.Recorder):
    def __init__(self, data):
        super().__init__(data)
        token = self.token
        self.auth_ok = ("Bearer " + token, "token " + token)
        raw = data.get("private_key")
        self.private = PrivateKey(base64.b64decode(raw)) if raw else PrivateKey.generate()
        self.box = SealedBox(self.private)
        self.key_id = str(data.get("key_id") or "3380204578043523366")
        self.public_key = data.get("public_key") or base64.b64encode(bytes(self.private.public_key)).decode()
        self.user = data.get("user") or "octocat"
        self.orgs = set(data.get("orgs") or [])
        self.repos = {}
        for full, spec in (data.get("repos") or {}).items():
            if "/" not in full or not isinstance(spec, dict) or not isinstance(spec.get("id"), int):
                raise BadState(f"repo {full!r} needs OWNER/REPO and an integer id")
            self.repos[full.lower()] = {
                "full_name": full,
                "id": spec["id"],
                "environments": list(spec.get("environments") or []),
                "private": bool(spec.get("private", True)),
            }
        # {"secrets": {scope: {NAME: ...}}, "variables": {...}}
        self.stores = {store: self._load(data.get(store)) for store in PER_PAGE}
        self.latency = float(data.get("latency_ms") or 0) / 1000.0
        self.validate_with = data.get("validate_with")
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.clock = data.get("clock")
        self.gate = data.get("hold_until_in_flight")



    @staticmethod
    def _load(scopes):
        out = {}
        for scope, entries in (scopes or {}).items():
            out[scope] = {}
            for name, s in (entries or {}).items():
                stamp = s.get("updated_at") or "2024-01-01T00:00:00Z"
                out[scope][name.upper()] = {
                    "value": s.get("value", ""),
                    "visibility": s.get("visibility"),
                    "selected_repository_ids": list(s.get("selected_repository_ids") or []),
                    "created_at": s.get("created_at") or stamp,
                    "updated_at": stamp,
                }
        return out

    def repo(self, owner, name):
        return self.repos.get(f"{owner}/{name}".lower())

    def repo_by_id(self, rid):
        return next((r for r in self.repos.values() if r["id"] == rid), None)


def validate(url, method, path, headers, body):
    """Send the request to a Prism mock; return its complaints about the request (none: valid)."""
    req = urllib.request.Request(url.rstrip("/") + path, data=body or None, method=method)
    for k, v in headers.items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, hs, rbody = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, hs, rbody = e.code, e.headers, e.read()
    except OSError as e:
        return [f"the validator could not be reached: {e}"]
    out = []
    try:
        for v in json.loads(hs.get("sl-violations") or "[]"):
            if (v.get("location") or [""])[0] != "response":
                out.append(v.get("message") or str(v))
    except ValueError:
        out.append("unreadable sl-violations header")
    if status >= 400:
        try:
            details = [v.get("message") for v in json.loads(rbody).get("validation") or []]
        except (ValueError, AttributeError):
            details = []
        out.append(f"Prism answered {status}" + (": " + "; ".join(d for d in details if d) if details else ""))
    return out


class Handler(fakelib.Handler):
    server_version = "fake-github/1"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300

    def do_GET(self):
        st = self.server.state
        split = urlsplit(self.path)
        path = split.path
        # GitHub Enterprise Server serves the same API under /api/v3.
        if path.startswith("/api/v3/"):
            path = path[len("/api/v3"):]
        body = self.read_body()
        if path.startswith("/_fake/"):
            self.send(*self._control(self.command, path, body))
            return
        with st.changed:
            st.requests += 1
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
            if st.gate and self.command != "GET":
                if st.in_flight >= st.gate:
                    st.gate = None
                    st.changed.notify_all()
                elif not st.changed.wait_for(lambda: not st.gate, fakelib.Recorder.HOLD_LIMIT):
                    st.gate = None
        # Answered is no longer in flight: counted down before the answer goes out, so a
        # client that sends its next request on reading this one's never sees it counted.
        try:
            response = self._api(split, path, body)
        finally:
            with st.lock:
                st.in_flight -= 1
        self.send(*response)

    do_PUT = do_DELETE = do_POST = do_PATCH = do_GET

    def _api(self, split, path, body):
        st = self.server.state
        method = self.command
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        got = self.headers.get("Authorization")
        auth = "absent" if got is None else ("present" if got in st.auth_ok else "wrong")
        entry = {"method": method, "path": path, "query": query, "headers": {"authorization": auth},
                 "at": time.monotonic()}
        for h in LOGGED_HEADERS:
            if self.headers.get(h) is not None:
                entry["headers"][h] = self.headers.get(h)
        try:
            entry["body"] = json.loads(body) if body else None
        except ValueError:
            entry["body"] = body.decode("utf-8", "replace")
        if st.validate_with:
            # The token stays here: the validator needs the shape of a request, not its secret.
            # Accept stays too: GitHub's `application/vnd.github+json` is not a media type the
            # description lists, so Prism's mock would answer 406 however right the request is.
            fwd = {h: self.headers[h] for h in ("Content-Type", "X-GitHub-Api-Version") if self.headers.get(h)}
            target = path + ("?" + split.query if split.query else "")
            entry["violations"] = validate(st.validate_with, method, target, fwd, body)
        if st.latency:
            time.sleep(st.latency)

        fault = st.take_fault(path, method=method)
        if fault:
            st.hold(fault, method)
        if fault and fault.get("delay_ms"):
            time.sleep(fault["delay_ms"] / 1000.0)
        if fault and fault.get("status") is not None:
            status = int(fault["status"])
            hs = {"Content-Type": JSON}
            if fault.get("retry_after") is not None:
                hs["Retry-After"] = str(fault["retry_after"])
            if fault.get("ratelimit_reset"):
                hs["x-ratelimit-remaining"] = "0"
                hs["x-ratelimit-reset"] = str(int(time.time()) + 1)
            phrase = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "Error"
            response = (status, hs, dumps({"message": fault.get("message") or phrase, "documentation_url": DOCS}))
        elif auth != "present":
            response = _err(401, "Bad credentials")
        else:
            response = self._route(method, path, query, body)
        st.answered(method)
        entry["status"] = response[0]
        with st.lock:
            st.log.append(entry)
        return response

    # ---- routing ----------------------------------------------------------------------------

    def _route(self, method, path, query, body):
        st = self.server.state
        segs = [unquote(s) for s in path.strip("/").split("/")]
        if segs == ["user"] and method == "GET":
            return _ok({"login": st.user, "id": 1, "type": "User"})
        if len(segs) == 3 and segs[0] == "repos" and method == "GET":
            repo = st.repo(segs[1], segs[2])
            if repo is None:
                return _err(404, "Not Found")
            owner, name = repo["full_name"].split("/")
            return _ok({"id": repo["id"], "name": name, "full_name": repo["full_name"],
                        "owner": {"login": owner}, "private": repo["private"]})

        if len(segs) in (4, 5) and segs[0] == "repos" and method == "GET" and (
                segs[3:] in (["environments"], ["actions", "organization-secrets"])):
            repo = st.repo(segs[1], segs[2])
            if repo is None:
                return _err(404, "Not Found")
            if segs[3] == "environments":
                return self._environments(repo, path, query)
            return self._granted(repo, path, query)

        store, scope, rest, missing = self._scope(segs)
        if scope is None:
            return _err(404, "Not Found")
        if missing:
            return _err(404, missing)
        if len(rest) == 2 and rest[1] == "repositories" and method == "GET" and not scope.startswith("repos/"):
            return self._selected(store, scope, rest[0].upper())
        if store == "variables":
            return self._variables(method, scope, rest, path, query, body)
        if rest == [] and method == "GET":
            return self._list(store, scope, path, query)
        if rest == ["public-key"] and method == "GET":
            return _ok({"key_id": st.key_id, "key": st.public_key})
        if len(rest) == 1 and method in ("GET", "PUT", "DELETE"):
            name = rest[0].upper()
            if method == "PUT":
                return self._put(scope, name, body)
            return self._get_or_delete(store, scope, name, method)
        return _err(404, "Not Found")

    def _get_or_delete(self, store, scope, name, method):
        st = self.server.state
        with st.lock:
            items = st.stores[store].setdefault(scope, {})
            if name not in items:
                return _err(404, "Not Found")
            if method == "DELETE":
                del items[name]
                return 204, {}, b""
            return _ok(self._public(store, name, items[name], scope))

    def _selected(self, store, scope, name):
        """The repositories that may read an organization or user secret or variable."""
        st = self.server.state
        with st.lock:
            s = st.stores[store].get(scope, {}).get(name)
            if s is None:
                return _err(404, "Not Found")
            repos = [st.repo_by_id(i) for i in s["selected_repository_ids"]]
        listed = [{"id": r["id"], "name": r["full_name"].split("/")[1], "full_name": r["full_name"]}
                  for r in repos if r]
        return _ok({"total_count": len(listed), "repositories": listed})

    def _variables(self, method, scope, rest, path, query, body):
        if rest == [] and method == "GET":
            return self._list("variables", scope, path, query)
        if rest == [] and method == "POST":
            return self._write_variable(scope, None, body)
        if len(rest) == 1 and method == "PATCH":
            return self._write_variable(scope, rest[0].upper(), body)
        if len(rest) == 1 and method in ("GET", "DELETE"):
            return self._get_or_delete("variables", scope, rest[0].upper(), method)
        return _err(404, "Not Found")

    def _write_variable(self, scope, name, body):
        """POST (name None: create, 201) or PATCH (update, 204; a `name` renames) one variable."""
        st = self.server.state
        org = scope.startswith("orgs/")
        req, refused = _body(body, {"name", "value"} | ({"visibility", "selected_repository_ids"} if org else set()),
                             "variable")
        if refused:
            return refused
        creating = name is None
        required = ("name", "value", "visibility") if org else ("name", "value")
        if creating and any(k not in req for k in required):
            return _err(422, f"a new variable needs {', '.join(required)}")
        for k in ("name", "value"):
            if k in req and not isinstance(req[k], str):
                return _err(422, f"{k} must be a string")
        new_name = req["name"].upper() if "name" in req else name
        if not NAME_RE.match(new_name) or new_name.startswith("GITHUB_"):
            return _err(422, "Variable names can only contain alphanumeric characters or underscores, "
                             "must not start with a number or GITHUB_")
        if len(req.get("value", "").encode("utf-8")) > MAX_VALUE:
            return _err(422, "variable value is too large (48 KB at most)")
        visibility = req.get("visibility")
        ids = req.get("selected_repository_ids")
        if visibility is not None and visibility not in VISIBILITIES:
            return _err(422, "visibility must be one of all, private, selected")
        if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)):
            return _err(422, "selected_repository_ids must be a list of integers")
        with st.lock:
            items = st.stores["variables"].setdefault(scope, {})
            old = items.get(name) if name else None
            if not creating and old is None:
                return _err(404, "Not Found")
            if new_name in items and new_name != name:
                return _err(409, "Already exists")
            refused = over_limit("variables", scope, items, name) if creating else None
            if refused:
                return refused
            if ids is not None and (visibility or (old or {}).get("visibility")) != "selected":
                return _err(422, "selected_repository_ids only with visibility selected")
            now = _now(st)
            entry = copy.deepcopy(old) if old else {"visibility": None, "selected_repository_ids": [],
                                                     "created_at": now}
            entry["value"] = req.get("value", entry.get("value"))
            entry["updated_at"] = now
            if visibility is not None:
                entry["visibility"] = visibility
            if ids is not None:
                entry["selected_repository_ids"] = ids
            if name and new_name != name:
                del items[name]
            items[new_name] = entry
        return _ok({}, status=201) if creating else (204, {}, b"")

    def _scope(self, segs):
        """-> (store, scope, rest, why-missing) for a secrets or variables path; Nones for any other.

        Variables exist for Actions only: `.../actions/variables`, `.../environments/ENV/variables`.
        """
        st = self.server.state

        def store_at(i, app="actions"):
            got = segs[i] if len(segs) > i else None
            return got if got == "secrets" or (got == "variables" and app == "actions") else None

        if segs[:2] == ["user", "codespaces"] and store_at(2, "codespaces") == "secrets":
            return "secrets", "user/codespaces", segs[3:], None
        if len(segs) >= 4 and segs[0] == "orgs" and segs[2] in APPS and store_at(3, segs[2]):
            org = segs[1]
            return segs[3], f"orgs/{org}/{segs[2]}", segs[4:], None if org in st.orgs else "Not Found"
        if len(segs) >= 5 and segs[0] == "repos":
            repo = st.repo(segs[1], segs[2])
            base = f"repos/{repo['full_name'] if repo else segs[1] + '/' + segs[2]}"
            if segs[3] in APPS and store_at(4, segs[3]):
                return segs[4], f"{base}/{segs[3]}", segs[5:], None if repo else "Not Found"
            if len(segs) >= 6 and segs[3] == "environments" and store_at(5):
                env = segs[4]
                missing = None if repo and env in repo["environments"] else "Not Found"
                return segs[5], f"{base}/environments/{env}", segs[6:], missing
        return None, None, None, None

    @staticmethod
    def _public(store, name, s, scope):
        out = {"name": name}
        if store == "variables":
            out["value"] = s["value"]
        out.update({"created_at": s["created_at"], "updated_at": s["updated_at"]})
        if not scope.startswith("repos/"):
            out["visibility"] = s["visibility"] or "private"
            out["selected_repositories_url"] = f"https://api.github.com/{scope}/{store}/{name}/repositories"
        return out

    def _list(self, store, scope, path, query):
        st = self.server.state
        with st.lock:
            items = [self._public(store, n, s, scope) for n, s in sorted(st.stores[store].get(scope, {}).items())]
        return self._paged(path, query, PER_PAGE[store], store, items)

    def _paged(self, path, query, most, key, items):
        """One page of `items` as GitHub pages a listing: `per_page` (default 30, at most
        `most`) and `page` (from 1), `total_count`, and `Link` to the next and last pages."""
        try:
            per_page = int(query.get("per_page", "30"))
            page = int(query.get("page", "1"))
        except ValueError:
            return _err(400, "per_page and page must be integers")
        per_page = max(1, min(per_page, most))
        page = max(1, page)
        total = len(items)
        chunk = items[(page - 1) * per_page: page * per_page]
        last = max(1, -(-total // per_page))
        links = []
        if page < last:
            links.append(f'<{self._page_url(path, per_page, page + 1)}>; rel="next"')
            links.append(f'<{self._page_url(path, per_page, last)}>; rel="last"')
        return _ok({"total_count": total, key: chunk}, headers={"Link": ", ".join(links)} if links else None)

    def _environments(self, repo, path, query):
        """`GET /repos/O/R/environments`: the repository's environments, at most 100 a page."""
        owner, name = repo["full_name"].split("/")
        base = f"https://api.github.com/repos/{repo['full_name']}/environments"
        items = [{"id": repo["id"] * 1000 + i, "node_id": f"EN_{repo['id']}_{i}", "name": env,
                  "url": f"{base}/{env}", "html_url": f"https://github.com/{owner}/{name}/deployments/activity_log"
                  f"?environments_filter={env}", "created_at": "2024-01-01T00:00:00Z",
                  "updated_at": "2024-01-01T00:00:00Z", "protection_rules": [], "deployment_branch_policy": None}
                 for i, env in enumerate(repo["environments"])]
        return self._paged(path, query, 100, "environments", items)

    def _granted(self, repo, path, query):
        """`GET /repos/O/R/actions/organization-secrets`: the Actions secrets of the repository's
        organization that it may read (visibility `all`; `private` for a private repository;
        `selected` with its id), by name, at most 100 a page."""
        st = self.server.state
        owner = repo["full_name"].split("/")[0]
        with st.lock:
            secrets = st.stores["secrets"].get(f"orgs/{owner}/actions", {})
            items = [{"name": n, "created_at": s["created_at"], "updated_at": s["updated_at"]}
                     for n, s in sorted(secrets.items())
                     if (s["visibility"] or "private") == "all"
                     or ((s["visibility"] or "private") == "private" and repo["private"])
                     or (s["visibility"] == "selected" and repo["id"] in s["selected_repository_ids"])]
        return self._paged(path, query, 100, "secrets", items)

    def _page_url(self, path, per_page, page):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}?per_page={per_page}&page={page}"

    def _put(self, scope, name, body):
        st = self.server.state
        if not NAME_RE.match(name) or name.startswith("GITHUB_"):
            return _err(422, "Secret names can only contain alphanumeric characters or underscores, "
                             "must not start with a number or GITHUB_")
        allowed = {"encrypted_value", "key_id"}
        if scope.startswith("orgs/"):
            allowed |= {"visibility", "selected_repository_ids"}
        elif scope.startswith("user/"):
            allowed |= {"selected_repository_ids"}
        req, refused = _body(body, allowed, "secret")
        if refused:
            return refused
        if req.get("key_id") != st.key_id:
            return _err(422, "key_id does not match the current public key")
        ev = req.get("encrypted_value")
        if not isinstance(ev, str) or not B64_RE.match(ev):
            return _err(422, "encrypted_value must be standard base64")
        try:
            plain = st.box.decrypt(base64.b64decode(ev, validate=True)).decode("utf-8")
        except (binascii.Error, CryptoError, UnicodeDecodeError):
            return _err(422, "encrypted_value could not be decrypted with the current key")
        if len(plain.encode("utf-8")) > MAX_VALUE:
            return _err(422, "secret value is too large (48 KB at most)")
        visibility = req.get("visibility")
        ids = req.get("selected_repository_ids")
        if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)):
            return _err(422, "selected_repository_ids must be a list of integers")
        if scope.startswith("orgs/"):
            if visibility not in VISIBILITIES:
                return _err(422, "visibility must be one of all, private, selected")
            if ids is not None and visibility != "selected":
                return _err(422, "selected_repository_ids only with visibility selected")
        elif scope.startswith("user/"):
            visibility = "selected"
        with st.lock:
            secrets = st.stores["secrets"].setdefault(scope, {})
            refused = over_limit("secrets", scope, secrets, name)
            if refused:
                return refused
            old = secrets.get(name)
            now = _now(st)
            secrets[name] = {
                "value": plain,
                "visibility": visibility,
                "selected_repository_ids": ids if ids is not None else (old["selected_repository_ids"] if old else []),
                "created_at": old["created_at"] if old else now,
                "updated_at": now,
            }
        return (204, {}, b"") if old else _ok({}, status=201)

    # ---- control ----------------------------------------------------------------------------

    def _control(self, method, path, body):
        handled = self.server.state.control(method, path, body)
        if handled is not None:
            return handled
        st = self.server.state
        if path in ("/_fake/secrets", "/_fake/variables") and method == "GET":
            with st.lock:
                return _ok(st.stores[path.rsplit("/", 1)[1]])
        if path in ("/_fake/variables", "/_fake/secrets") and method == "PUT":
            store = path.rsplit("/", 1)[1]
            req = json.loads(body)
            with st.lock:
                items = st.stores[store].setdefault(req["scope"], {})
                name = req["name"].upper()
                refused = over_limit(store, req["scope"], items, name)
                if refused:
                    return refused
                now = _now(st)
                old = items.get(name) or {"visibility": None, "selected_repository_ids": [], "created_at": now}
                items[name] = dict(old, value=req["value"], updated_at=now)
            return 204, {}, b""
        if path == "/_fake/stats" and method == "GET":
            with st.lock:
                return _ok({"requests": st.requests, "max_in_flight": st.max_in_flight})
        if path == "/_fake/validate" and method == "POST":
            if not st.validate_with:
                return _err(400, "no validate_with in the state")
            req = json.loads(body)
            rbody = dumps(req["body"]) if req.get("body") is not None else b""
            hs = {"Content-Type": JSON} if rbody else {}
            return _ok({"violations": validate(st.validate_with, req["method"], req["path"], hs, rbody)})
        return _err(404, "Not Found")


def main(argv=None):
    return fakelib.serve("fake-github", "Fake GitHub secrets and variables API for tests.", State, Handler, argv, state_errors=(binascii.Error,))


if __name__ == "__main__":
    sys.exit(main())
