#!/usr/bin/env python3
"""A fake Pulumi ESC service for escort's tests and benchmarks (test support only).

Python 3 standard library only. The routes are here; the model (environments, revisions,
sessions) is in esc_model.py. Speaks the subset of the ESC REST API described in
specs/esc.openapi.yaml that escort uses, closely enough that the official ESC SDKs
(pulumi-esc-sdk on PyPI, @pulumi/esc-sdk on npm) read it.

Usage:
    python3 tests/fakes/esc_server.py --state STATE.json [--port 0] [--host 127.0.0.1]
                                      [--no-stdin-watch] [--verbose]

It binds a loopback address only, prints exactly one line `READY http://127.0.0.1:PORT`
to stdout when listening, and exits when its stdin reaches EOF (so a harness that holds a
pipe to its stdin takes it down when it dies), on SIGTERM and on SIGINT. Nothing else is
written to stdout; --verbose logs request lines (never headers) to stderr.

State file (JSON):
    {
      "token": "tok-123",            # required: requests need `Authorization: token tok-123`
      "default_org": "acme",         # GET /api/user/organizations/default -> {"gitHubLogin": ...}
      "require_if_match": false,     # optional: PATCH without If-Match -> 428 (the real service
                                     # accepts it; tests can also inspect the request log)
      "environments": {
        "acme/proj/dev": {
          "imports": ["proj/base", "shared@stable"],  # optional: evaluated at each open (see
                                     # below); `project/env[@version]`, or a bare `env` (in
                                     # the project `default`, as ESC documents); {"name": {"merge":
                                     # false}} imports without merging
          "values": {...},           # authoring form, evaluated at each open (esc_eval.py):
                                     # {"fn::secret": X} marks X (and all under it) secret;
                                     # "${a.b}" references, "$$" a literal "$", {"fn::open::test":
                                     # {"key": K}} reads providers[K], {"fn::rotate::R": {"inputs":
                                     # ..., "state": S}} is S; top-level keys become `properties`
          "properties_raw": null,    # optional: served verbatim as `properties` (no evaluation)
          "yaml": "values: ...",     # definition text (GET/PATCH), served as given; default
                                     # derived from imports and values, each secret written as a
                                     # `ciphertext` as the service stores it: the previous
                                     # revision's where its plaintext is unchanged (a save that
                                     # did not touch it), else a fresh one. A PATCH
                                     # derives the new revision from its YAML (needs PyYAML):
                                     # refused with diagnostics when it does not evaluate (unknown
                                     # property or environment, cycles, a ciphertext the fake
                                     # cannot decrypt); stored with every plaintext fn::secret
                                     # replaced by a fresh ciphertext, so saving an unchanged
                                     # plaintext still changes the stored text
          "tags": {"stable": 1},     # optional revision tags -> revision number (or
                                     # {"revision": N}); they move with PATCH versions/tags/NAME
          "history": [               # optional older revisions, oldest first; each
            {"yaml": "...", "values": {...}, "imports": [], "properties_raw": null,
             "retracted": null}      # retracted: {"replacement": N, "at": "...", "reason": "..."}
          ],                         # as listed by GET versions; such a revision is refused
                                     # (400) by every read and open; current = len(history)+1
          "created": null            # optional on each revision (and the current one): its
                                     # date, RFC 3339; default 2024-01-01 plus i-1 minutes
        }
      },
      "providers": {"db": {"password": "p1"}},  # optional: fn::open::test values by key, read
                                     # at each open (POST /_fake/providers changes them with no
                                     # revision); their values are secret
      "ciphertexts": {"C": "plain"}, # optional: ciphertexts (in given yaml) the fake can decrypt
      "faults": [],                  # see below
      "oidc": {                      # optional: POST /api/oauth/token (no auth header; RFC 8693)
        "subject_token": "jwt-...",  #   the ID token it accepts
        "access_token": "tok-...",   #   the Pulumi token it issues
        "orgs": ["acme"]             #   audiences urn:pulumi:org:<org> it trusts
      },
      "actions": {                   # optional: the Actions runtime's ID-token endpoint,
        "request_token": "req-...",  #   GET /_actions/idtoken?audience=... with
        "id_token": "jwt-..."        #   `Authorization: Bearer <request_token>` -> {"value": id_token}
      }
    }

Faults (POST /_fake/faults with a JSON list replaces them; the first matching fault that has
`times` left is applied and decremented; -1 = forever):
    {"op": "open"|"read"|"default_org"|"definition_get"|"definition_patch"|"versions"|
           "decrypt"|"list"|"create"|"any",
     "path_contains": null,   # optional: only requests whose path contains this
     "status": 503,           # status to answer with (null: answer normally after delay_ms)
     "times": 1, "retry_after": "1", "delay_ms": 0,
     "body": null,            # raw body text instead of {"message","code"}
     "diagnostics": null,     # if set, body is {"diagnostics": [...]}
     "truncate": false,       # send the normal response with a Content-Length larger than
                              # the body, send half of the body, then close
     "malformed": false,      # 200 with invalid JSON
     "barrier": null,         # N: hold each matching request until N of them have arrived
     "hold": false}           # hold the request until a later one of the same op is answered
Request log entries carry `at`: the fake's monotonic clock (seconds) when the request arrived.

POST /api/esc/environments/{org} {"project", "name"} creates an environment (204; 409 if it
exists), its revision 1 empty.

Evaluation and revisions (esc_model.py, esc_eval.py): an open evaluates the revision at that
moment (imports at their pins, then `${...}`, providers, rotators) and the session reads that
result; a definition that does not evaluate is answered 400 with diagnostics. Also served:
GET .../decrypt and GET .../versions/{version}/decrypt (the stored text with each ciphertext the
fake issued in plaintext; the second route and the list's `retracted` object are not in the
vendored spec: their shapes are those of pulumi/esc's CLI client); the revision tag routes of the
spec (list, get incl. `latest`, create, move with PATCH, delete).

Control endpoints (no auth, not logged): POST /_fake/faults, GET /_fake/faults,
GET /_fake/requests, POST /_fake/reset-log, GET /_fake/sessions,
POST /_fake/providers {KEY: value}   change provider values (no revision),
POST /_fake/retract {"env": "org/p/e", "revision": N, "replacement": M?, "reason": "..."?}
                                     retract a revision as `esc env version retract` does (tags
                                     on it move to the replacement; the latest cannot be).
"""

import http
import json
import re
import socket
import sys
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import fakelib
from esc_model import (BadDefinition, Env, EvalError, Revision, State, _rfc3339, decrypt_text, seal_text,
                       values_from_definition)
from fakelib import dumps

JSON = "application/json"
YAML = "application/x-yaml"

# From the spec's `duration` parameter.
DURATION_RE = re.compile(
    r"^(\d*\.\d+|\d+)(ns|us|µs|ms|s|m|h)?(\d*\.\d+|\d+)?(ns|us|µs|ms|s|m|h)?$"
)

# The spec's ProjectName and EnvName.
PROJECT_RE = re.compile(r"^(?!(\.|\.\.|default))[a-zA-Z0-9-_.]{1,100}$")
ENV_NAME_RE = re.compile(r"^(?!(\.|\.\.|open|yaml))[a-zA-Z0-9-_.]{1,100}$")

# The token exchange and the Actions ID-token endpoint carry their own credentials.
UNAUTHENTICATED_OPS = ("oauth", "idtoken")

LOGGED_HEADERS = ("accept", "user-agent", "if-match", "content-type")


def _err(status, message):
    return status, {"Content-Type": JSON}, dumps({"message": message, "code": status})


def _diagnostics(e):
    return 400, {"Content-Type": JSON}, dumps({"diagnostics": e.diagnostics})


def _retracted(env, rev):
    # Assumption (the status is not documented): the service refuses with 400.
    return _err(400, f"revision {rev.number} of environment '{env.name}' has been retracted")


class Handler(fakelib.Handler):
    server_version = "fake-esc/1"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300

    def _auth_state(self):
        got = self.headers.get("Authorization")
        if got is None:
            return "absent"
        return "present" if got == self.server.state.auth_ok else "wrong"

    def _dispatch(self):
        st = self.server.state
        split = urlsplit(self.path)
        path = split.path
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        body = self.read_body()
        method = self.command

        if path.startswith("/_fake/"):
            self.send(*self._control(method, path, body))
            return

        auth = self._auth_state()
        hdrs = {"authorization": auth}
        for h in LOGGED_HEADERS:
            v = self.headers.get(h)
            if v is not None:
                hdrs[h] = v
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "headers": hdrs,
            "body": body.decode("utf-8", "replace") if body else None,
            "at": time.monotonic(),
        }
        with st.lock:
            st.log.append(entry)

        op, handler = self._route(method, path)
        head_only = method == "HEAD"

        fault = st.take_fault(path, op=op) if op else None
        if fault:
            st.hold(fault, op)
            if fault.get("delay_ms"):
                time.sleep(fault["delay_ms"] / 1000.0)
            if fault.get("malformed"):
                self.send(200, {"Content-Type": JSON}, b'{"properties": {"oops": ', head_only)
                return
            if fault.get("status") is not None and not fault.get("truncate"):
                status = int(fault["status"])
                if fault.get("diagnostics") is not None:
                    fbody = dumps({"diagnostics": fault["diagnostics"]})
                elif fault.get("body") is not None:
                    b = fault["body"]
                    fbody = b.encode("utf-8") if isinstance(b, str) else dumps(b)
                else:
                    phrase = (
                        http.HTTPStatus(status).phrase
                        if status in http.HTTPStatus._value2member_map_
                        else "Error"
                    )
                    fbody = dumps({"message": phrase, "code": status})
                hs = {"Content-Type": JSON}
                if fault.get("retry_after") is not None:
                    hs["Retry-After"] = str(fault["retry_after"])
                self.send(status, hs, fbody, head_only)
                return

        if auth != "present" and op not in UNAUTHENTICATED_OPS:
            status, hs, rbody = _err(401, "Unauthorized")
        else:
            status, hs, rbody = handler(query, body)
        st.answered(op)

        if fault and fault.get("truncate"):
            if fault.get("status") is not None:
                status = int(fault["status"])
            self.close_connection = True
            self.send(status, hs, rbody[: len(rbody) // 2], head_only, declared_len=len(rbody) + 64)
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send(status, hs, rbody, head_only)

    def do_GET(self):
        self._dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_GET

    # ---- routing ----------------------------------------------------------------------------

    def _route(self, method, path):
        """-> (op or None, handler(query, body) -> (status, headers, body))."""
        st = self.server.state

        def fail(status, message):
            return lambda q, b: _err(status, message)

        not_allowed = fail(405, "Method Not Allowed")
        if path == "/api/oauth/token":
            return "oauth", self._oauth_token if method == "POST" else not_allowed
        if path == "/_actions/idtoken":
            return "idtoken", self._actions_id_token if method == "GET" else not_allowed
        if path == "/api/user/organizations/default":
            return "default_org", self._default_org if method == "GET" else not_allowed
        if not path.startswith("/api/esc/environments/"):
            return None, fail(404, "Not Found")
        segs = [unquote(s) for s in path[len("/api/esc/environments/"):].split("/")]
        if len(segs) == 1 and segs[0]:
            if method == "POST":
                return "create", lambda q, b: self._create(segs[0], b)
            return "list", (lambda q, b: self._list(segs[0])) if method == "GET" else not_allowed
        if len(segs) < 3 or not all(segs[:3]):
            return None, fail(404, "Not Found")
        name = "/".join(segs[:3])
        rest = segs[3:]
        env = st.envs.get(name)

        if not rest:
            if method in ("GET", "HEAD"):
                op, fn = "definition_get", lambda q, b: self._definition_get(env)
            elif method == "PATCH":
                op, fn = "definition_patch", lambda q, b: self._definition_patch(env, b)
            else:
                op, fn = "definition_get", not_allowed
        elif rest == ["open"]:
            op, fn = "open", lambda q, b: self._open(env, env.current, q)
            fn = fn if method == "POST" else not_allowed
        elif len(rest) == 2 and rest[0] == "open":
            op, fn = "read", lambda q, b: self._read(env, rest[1])
            fn = fn if method == "GET" else not_allowed
        elif len(rest) == 3 and rest[0] == "open" and rest[1] == "":
            op, fn = "read", lambda q, b: self._read_property(env, rest[2], q)
            fn = fn if method == "GET" else not_allowed
        elif rest == ["versions"]:
            op, fn = "versions", lambda q, b: self._versions(env, q)
            fn = fn if method == "GET" else not_allowed
        elif rest == ["decrypt"]:
            op, fn = "decrypt", lambda q, b: self._decrypt(env, "latest")
            fn = fn if method == "GET" else not_allowed
        elif rest == ["versions", "tags"]:
            op = "versions"
            if method == "GET":
                fn = lambda q, b: self._revision_tags(env)
            elif method == "POST":
                fn = lambda q, b: self._tag_create(env, None, b)
            else:
                fn = not_allowed
        elif len(rest) == 3 and rest[:2] == ["versions", "tags"]:
            op = "versions"
            fn = {
                "GET": lambda q, b: self._tag_get(env, rest[2]),
                "POST": lambda q, b: self._tag_create(env, rest[2], b),
                "PATCH": lambda q, b: self._tag_update(env, rest[2], b),
                "DELETE": lambda q, b: self._tag_delete(env, rest[2]),
            }.get(method, not_allowed)
        elif len(rest) == 3 and rest[0] == "versions" and rest[2] == "decrypt":
            op, fn = "decrypt", lambda q, b: self._decrypt(env, rest[1])
            fn = fn if method == "GET" else not_allowed
        elif len(rest) == 2 and rest[0] == "versions":
            op, fn = "versions", lambda q, b: self._at_version(env, rest[1])
            fn = fn if method == "GET" else not_allowed
        elif len(rest) == 3 and rest[0] == "versions" and rest[2] == "open":
            op, fn = "open", lambda q, b: self._open_version(env, rest[1], q)
            fn = fn if method == "POST" else not_allowed
        else:
            return None, fail(404, "Not Found")
        if env is None and fn is not not_allowed:
            fn = fail(404, f"Environment '{name}' not found")
        return op, fn

    # ---- API handlers -----------------------------------------------------------------------

    def _oauth_token(self, q, b):
        """RFC 8693 token exchange as Pulumi Cloud documents it; errors as OAuth errors."""
        cfg = self.server.state.oidc
        if not cfg:
            return _err(404, "Not Found")

        def oauth_err(status, error, desc):
            return status, {"Content-Type": JSON}, dumps({"error": error, "error_description": desc})

        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            if ctype == "application/json":
                form = json.loads(b or b"{}")
            else:
                form = {k: v[0] for k, v in parse_qs((b or b"").decode(), keep_blank_values=True).items()}
        except ValueError:
            return oauth_err(400, "invalid_request", "malformed body")
        if not isinstance(form, dict):
            return oauth_err(400, "invalid_request", "malformed body")
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
            return oauth_err(400, "unsupported_grant_type", "unsupported grant type")
        if form.get("subject_token_type") != "urn:ietf:params:oauth:token-type:id_token":
            return oauth_err(400, "invalid_request", "unsupported subject token type")
        prefix = "urn:pulumi:token-type:access_token:"
        kind = str(form.get("requested_token_type") or "")
        kind = kind[len(prefix):] if kind.startswith(prefix) else ""
        if kind not in ("organization", "team", "personal", "runner"):
            return oauth_err(400, "invalid_request", "invalid requested token type")
        scope = str(form.get("scope") or "")
        scope_ok = {
            "organization": scope in ("", "admin"),
            "team": scope.startswith("team:") and len(scope) > 5,
            "personal": scope.startswith("user:") and len(scope) > 5,
            "runner": scope.startswith("runner:") and len(scope) > 7,
        }[kind]
        if not scope_ok:
            return oauth_err(400, "invalid_scope", f"invalid scope for a {kind} token")
        audience = str(form.get("audience") or "")
        if not audience.startswith("urn:pulumi:org:") or audience[15:] not in cfg.get("orgs", []):
            return oauth_err(400, "invalid_target", "unknown audience")
        exp = form.get("expiration")
        if exp not in (None, "") and not str(exp).isdigit():
            return oauth_err(400, "invalid_request", "invalid expiration")
        if form.get("subject_token") != cfg.get("subject_token"):
            return oauth_err(401, "invalid_grant", "the subject token is not trusted")
        return 200, {"Content-Type": JSON}, dumps({
            "access_token": cfg["access_token"],
            "issued_token_type": prefix + kind,
            "token_type": "token",
            "expires_in": int(exp) if exp not in (None, "") else 7200,
            "scope": scope,
            "refresh_token": "",
        })

    def _actions_id_token(self, q, b):
        cfg = self.server.state.actions
        if not cfg:
            return _err(404, "Not Found")
        if self.headers.get("Authorization") != "Bearer " + cfg.get("request_token", ""):
            return _err(401, "Unauthorized")
        if not q.get("audience"):
            return _err(400, "audience is required")
        return 200, {"Content-Type": JSON}, dumps({"value": cfg["id_token"], "count": 1})

    def _default_org(self, q, b):
        org = self.server.state.default_org
        if not org:
            return _err(404, "No default organization")
        return 200, {"Content-Type": JSON}, dumps({"gitHubLogin": org})

    def _list(self, org):
        st = self.server.state
        with st.lock:
            envs = [
                {
                    "organization": e.org,
                    "project": e.project,
                    "name": e.env,
                    "created": _rfc3339(e.created),
                    "modified": _rfc3339(e.current.created),
                }
                for e in st.envs.values()
                if e.org == org
            ]
        return 200, {"Content-Type": JSON}, dumps({"environments": envs, "nextToken": ""})

    def _create(self, org, body):
        """CreateEnvironment: {project, name} -> 204; the new environment's revision 1 is empty."""
        st = self.server.state
        try:
            req = json.loads(body or b"null")
        except ValueError:
            req = None
        if not isinstance(req, dict) or set(req) - {"project", "name"} or not all(
                isinstance(req.get(k), str) and pattern.match(req[k])
                for k, pattern in (("project", PROJECT_RE), ("name", ENV_NAME_RE))):
            return _err(400, "the body must be {\"project\", \"name\"} with valid names")
        name = f"{org}/{req['project']}/{req['name']}"
        with st.lock:
            if name in st.envs:
                return _err(409, f"Environment '{name}' already exists")
            st.envs[name] = Env(name, {}, datetime.now(timezone.utc), st.ciphers)
        return 204, {}, b""

    def _open(self, env, rev, q):
        d = q.get("duration")
        if d is not None and not DURATION_RE.match(d):
            return _err(400, f"invalid duration {d!r}")
        try:
            body = self.server.state.open_body(env, rev)
        except EvalError as e:
            return _diagnostics(e)
        sid = self.server.state.new_session(env, rev, body)
        return 200, {"Content-Type": JSON}, dumps({"id": sid})

    def _revision(self, env, version):
        """-> (revision, None) or (None, the refusal): unknown, or retracted."""
        with self.server.state.lock:
            rev = env.resolve(version)
        if rev is None:
            return None, _err(404, f"Revision '{version}' of environment '{env.name}' not found")
        if rev.retracted:
            return None, _retracted(env, rev)
        return rev, None

    def _open_version(self, env, version, q):
        rev, refused = self._revision(env, version)
        return refused or self._open(env, rev, q)

    def _session(self, env, sid):
        """The body evaluated when the session was opened, or None."""
        with self.server.state.lock:
            s = self.server.state.sessions.get(sid)
        if s is None or s[0] != env.name:
            return None
        return s[2]

    def _read(self, env, sid):
        body = self._session(env, sid)
        if body is None:
            return _err(404, f"Open session '{sid}' not found")
        return 200, {"Content-Type": JSON}, body

    def _read_property(self, env, sid, q):
        body = self._session(env, sid)
        if body is None:
            return _err(404, f"Open session '{sid}' not found")
        prop = q.get("property")
        if not prop:
            return _err(400, "missing property")
        node = {"value": json.loads(body)["properties"]}
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", prop):
            inner = node.get("value") if isinstance(node, dict) else None
            if part.startswith("[") and isinstance(inner, list):
                i = int(part[1:-1])
                node = inner[i] if i < len(inner) else None
            elif isinstance(inner, dict):
                node = inner.get(part.strip('"'))
            else:
                node = None
            if node is None:
                return _err(404, f"Property '{prop}' not found")
        return 200, {"Content-Type": JSON}, dumps(node)

    def _definition_get(self, env):
        with self.server.state.lock:
            rev, etag = env.current, env.etag()
        return 200, {"Content-Type": YAML, "ETag": etag}, rev.yaml.encode("utf-8")

    def _definition_patch(self, env, body):
        st = self.server.state
        if_match = self.headers.get("If-Match")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _err(400, "definition is not valid UTF-8")
        try:
            doc, problem = values_from_definition(text, st.ciphers), None
        except BadDefinition as e:
            doc, problem = None, str(e)
        with st.lock:
            if if_match is None and st.require_if_match:
                return _err(428, "If-Match required")
            if if_match is not None and if_match != env.etag():
                return _err(409, "Conflict: the environment was modified; re-read it and retry")
            if problem:
                return 400, {"Content-Type": JSON}, dumps({"diagnostics": [{"summary": problem}]})
            prev = env.current
            created = max(datetime.now(timezone.utc), prev.created + timedelta(seconds=1))
            rev = Revision(prev.number + 1, None, doc, created)
            try:
                st.evaluate(env, rev)  # the service refuses a definition that does not evaluate
            except EvalError as e:
                return _diagnostics(e)
            rev.yaml = seal_text(text, doc, st.ciphers)
            env.revisions.append(rev)
            etag = env.etag()
        return 200, {"Content-Type": JSON, "ETag": etag}, dumps({"diagnostics": []})

    def _versions(self, env, q):
        try:
            before = int(q["before"]) if "before" in q else None
            count = int(q["count"]) if "count" in q else None
        except ValueError:
            return _err(400, "before and count must be integers")
        with self.server.state.lock:
            tags_of = {}
            for t, tag in env.tags.items():
                tags_of.setdefault(tag["revision"], []).append(t)
            revs = [r for r in reversed(env.revisions) if before is None or r.number < before]
            if count is not None:
                revs = revs[: max(count, 0)]
            out = []
            for r in revs:
                item = {
                    "number": r.number,
                    "created": _rfc3339(r.created),
                    "creatorLogin": r.creator_login,
                    "creatorName": r.creator_name,
                }
                if r.number in tags_of:
                    item["tags"] = sorted(tags_of[r.number])
                if r.retracted:
                    item["retracted"] = r.retracted
                out.append(item)
        return 200, {"Content-Type": JSON}, dumps(out)

    @staticmethod
    def _tag_json(name, tag):
        return {
            "name": name,
            "revision": tag["revision"],
            "created": _rfc3339(tag["created"]),
            "modified": _rfc3339(tag["modified"]),
            "editorLogin": "fake-user",
            "editorName": "Fake User",
        }

    def _revision_tags(self, env):
        with self.server.state.lock:
            tags = [self._tag_json(t, tag) for t, tag in sorted(env.tags.items())]
        return 200, {"Content-Type": JSON}, dumps({"tags": tags, "nextToken": ""})

    def _tag_get(self, env, name):
        with self.server.state.lock:
            if name == "latest":
                rev = env.current
                return 200, {"Content-Type": JSON}, dumps(
                    self._tag_json(name, {"revision": rev.number, "created": env.created, "modified": rev.created}))
            tag = env.tags.get(name)
            if tag is None:
                return _err(404, f"Tag '{name}' not found")
            return 200, {"Content-Type": JSON}, dumps(self._tag_json(name, tag))

    def _tag_revision(self, env, body, need_name):
        """-> (name, revision number, None) from a tag request body, or the refusal."""
        try:
            req = json.loads(body or b"null")
        except ValueError:
            req = None
        if not isinstance(req, dict) or not isinstance(req.get("revision"), int) or (
                need_name and not isinstance(req.get("name"), str)):
            return None, None, _err(400, "the body must be {\"name\", \"revision\"}" if need_name
                                    else "the body must be {\"revision\"}")
        n = req["revision"]
        if not 1 <= n <= len(env.revisions):
            return None, None, _err(400, f"revision {n} not found")
        if env.revisions[n - 1].retracted:
            return None, None, _retracted(env, env.revisions[n - 1])
        return req.get("name"), n, None

    def _tag_create(self, env, name, body):
        """POST versions/tags {name, revision} (the vendored spec) or versions/tags/NAME {revision}."""
        with self.server.state.lock:
            got, n, refused = self._tag_revision(env, body, name is None)
            if refused:
                return refused
            name = name or got
            if name == "latest" or name in env.tags:
                return _err(409, f"Tag '{name}' already exists")
            now = datetime.now(timezone.utc)
            env.tags[name] = {"revision": n, "created": now, "modified": now}
        return 204, {}, b""

    def _tag_update(self, env, name, body):
        """Moving a tag makes no revision: a pin on it now reads another one."""
        with self.server.state.lock:
            if name == "latest":
                return _err(400, "the latest tag cannot be moved")
            tag = env.tags.get(name)
            if tag is None:
                return _err(404, f"Tag '{name}' not found")
            _, n, refused = self._tag_revision(env, body, False)
            if refused:
                return refused
            tag["revision"], tag["modified"] = n, datetime.now(timezone.utc)
        return 204, {}, b""

    def _tag_delete(self, env, name):
        with self.server.state.lock:
            if env.tags.pop(name, None) is None:
                return _err(404, f"Tag '{name}' not found")
        return 204, {}, b""

    def _at_version(self, env, version):
        rev, refused = self._revision(env, version)
        return refused or (200, {"Content-Type": YAML}, rev.yaml.encode("utf-8"))

    def _decrypt(self, env, version):
        """The definition with static secrets in plaintext (DecryptEnvironment; at a version,
        as `esc env get --show-secrets ENV@N` reads it)."""
        rev, refused = self._revision(env, version)
        if refused:
            return refused
        with self.server.state.lock:
            text = decrypt_text(rev.yaml, self.server.state.ciphers)
        return 200, {"Content-Type": YAML}, text.encode("utf-8")

    # ---- control ----------------------------------------------------------------------------

    def _control(self, method, path, body):
        handled = self.server.state.control(method, path, body)
        if handled is not None:
            return handled
        st = self.server.state
        if path == "/_fake/sessions" and method == "GET":
            with st.lock:
                s = {k: {"env": v[0], "revision": v[1].number} for k, v in st.sessions.items()}
            return 200, {"Content-Type": JSON}, dumps(s)
        if path == "/_fake/providers" and method == "POST":
            try:
                values = json.loads(body or b"null")
            except ValueError:
                values = None
            if not isinstance(values, dict):
                return _err(400, "the body must be {KEY: value}")
            with st.lock:
                st.providers.update(values)
            return 200, {"Content-Type": JSON}, dumps({"ok": True})
        if path == "/_fake/retract" and method == "POST":
            return self._control_retract(body)
        return _err(404, "Not Found")

    def _control_retract(self, body):
        st = self.server.state
        try:
            req = json.loads(body or b"null")
            env = st.envs[req["env"]]
            number = int(req["revision"])
            replacement = req.get("replacement")
        except (ValueError, TypeError, KeyError):
            return _err(400, "the body must be {\"env\", \"revision\", \"replacement\"?, \"reason\"?}")
        with st.lock:
            try:
                env.retract(number, replacement, req.get("reason"), datetime.now(timezone.utc))
            except ValueError as e:
                return _err(400, str(e))
        return 200, {"Content-Type": JSON}, dumps({"ok": True})


def main(argv=None):
    return fakelib.serve("fake-esc", "Fake Pulumi ESC server for tests.", State, Handler, argv)


if __name__ == "__main__":
    sys.exit(main())
