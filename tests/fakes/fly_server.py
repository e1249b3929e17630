#!/usr/bin/env python3
"""A fake Fly.io Machines API, app secrets only, for escort's tests.

Test support only; Python 3 standard library. It speaks the part of the Machines API that
escort's `fly:APP` target uses, with the shapes of Fly's published description (schemas
`AppSecrets`, `AppSecret`, `AppSecretsUpdateRequest`, `AppSecretsUpdateResp`; errors are
`{"error": "..."}`, as Fly's Go client `flaps` reads them):

    GET  /v1/apps/{app}/secrets   -> 200 {"secrets": [{"name", "digest", "created_at", "updated_at"}]}
                                     (sorted by name; values are never listed)
    GET  /v1/apps/{app}/secrets?version=N
                                     (a version the app has not reached yet is 404)
    POST /v1/apps/{app}/secrets   {"values": {"A": "v", "B": null}}
                                  -> 200 {"secrets": [...as above, after the change], "version": N}
                                     A string sets, null deletes; the whole change applies or none of it.
                                     N is the app's secrets version, one more on every write.

Secrets are staged, as on Fly.io: a write changes the app's secrets but no machine sees it until
the machine is updated (deployed). Machines (shapes of fly-go's `Machine` and
`LaunchMachineInput`):
    GET  /v1/apps/{app}/machines        -> 200 [Machine]
    GET  /v1/apps/{app}/machines/{id}   -> 200 Machine
    POST /v1/apps/{app}/machines/{id}   {"config": {...}, "min_secrets_version": N, "skip_launch",
                                         "skip_secrets", "region", "name", "lease_ttl"}
                                  -> 200 Machine: the machine now runs `config` with the app's
                                     current secrets (unless skip_secrets), a new instance_id and
                                     updated_at. A min_secrets_version the app has not reached
                                     is 422 and changes nothing (Fly waits for it; the fake's
                                     store is never behind). A config whose
                                     metadata.fly_release_version names a release the app lacks
                                     creates that release (flyctl creates it beforehand).
                                     While someone holds the machine's lease, an update without
                                     its nonce (header fly-machine-lease-nonce) is 409, and so is
                                     a nonce with no lease.
    POST   /v1/apps/{app}/machines/{id}/lease?ttl=S  -> 200 {"status": "success", "data": {"nonce",
                                     "expires_at", "owner", "description", "version"}}; 409 while
                                     another holds it (its holder's nonce refreshes it)
    GET    /v1/apps/{app}/machines/{id}/lease        -> 200 the lease, 404 none
    DELETE /v1/apps/{app}/machines/{id}/lease        (with the nonce) -> 200; 409 another nonce
    GET    /v1/apps/{app}/machines/{id}/wait?instance_id=I&state=S&timeout=T
                                  -> 200 {"ok": true} when the machine runs instance I in state S;
                                     408 when it does not (at once: the fake never sleeps); 400
                                     for another instance, a state other than started, stopped,
                                     suspended, destroyed, or a timeout outside 1..60 s
    A Machine: {"id", "name", "state", "region", "instance_id", "created_at", "updated_at",
                "config": {"image", "env", "metadata": {"fly_platform_version": "v2",
                "fly_release_version": "V", ...}}, "image_ref": {...}}
Releases, as flyctl's `secrets list` reads them to tell a deployed secret (updated_at at or
before the created_at of the release its machines run) from a staged one:
    GET  /api/v1/apps/{app}/releases?limit=N -> 200 {"releases": [{"id", "version", "stable",
                                     "in_progress", "status", "strategy", "user", "created_at",
                                     "image_ref"}]}  (newest first)

Assumptions (not checked against the live service): an unknown app is 404
`{"error": "app not found"}`; a missing or wrong token is 401; a name that is not an environment
variable name (`[A-Za-z_][A-Za-z0-9_]*`) or a value that is not a string or null is 422 and nothing
is changed; deleting a name the app lacks changes nothing; timestamps are RFC 3339 in UTC, to the
microsecond; a digest is the first 16 hex digits of the value's SHA-256 (Fly's shape: 16 hex
digits that change with the value).

Authentication: `Authorization: Bearer TOKEN`, except that a token starting `FlyV1 ` (what
`fly tokens create` makes) must arrive exactly as it is, without `Bearer`.

Usage:
    python tests/fakes/fly_server.py --state STATE.json [--port 0] [--host 127.0.0.1]
                                     [--no-stdin-watch] [--verbose]
It binds a loopback address only, prints exactly one line `READY http://127.0.0.1:PORT` to stdout
when listening, and exits when its stdin reaches EOF, on SIGTERM and on SIGINT (see fakelib.py).

State file (JSON):
    {
      "token": "fly-test",                 # required; or "FlyV1 fm2_..." for a raw token
      "apps": {                            # the apps that exist, and their secrets
        "app": {"secrets": {"NAME": {"value": "...",
                                     "created_at": "2024-01-01T00:00:00Z",    # optional
                                     "updated_at": "2024-01-01T00:00:00Z"}},  # optional; served
                                     # verbatim (a date without a zone too); null: not served
                "secrets_version": 1,              # optional: the app's secrets version
                "releases": [{"version": 1, "created_at": "2024-01-01T00:00:00Z"}],  # optional
                "machines": [{"id": "m1",          # optional; each runs the app's secrets as
                              "release_version": 1,  # they are at start, until updated
                              "region": "ams", "state": "started",
                              "updated_at": "2024-01-01T00:00:00Z",
                              "lease": {"owner": "o@example.com", "ttl": 600},  # optional: held
                              "starts": true}]}     # optional: false stays `created` after an update
      },
      "faults": []
    }

Faults (POST /_fake/faults with a JSON list replaces them; the first matching fault with `times`
left is applied and decremented; -1 = forever):
    {"method": "POST", "path_contains": "/secrets", "status": 503, "times": 1,
     "message": "...",          # optional: the body's `error`
     "retry_after": "1",        # optional: Retry-After header
     "delay_ms": 0}

Control endpoints (no auth, not logged):
    GET  /_fake/secrets/APP  -> {NAME: {"value", "digest", "created_at", "updated_at"}} (plaintext)
    POST /_fake/secrets/APP  {NAME: {"value", "updated_at" (optional)}}: someone else's write, a new
                                secrets version; dated now unless `updated_at` is given
    GET  /_fake/machines/APP -> [{"id", "secrets_version", "secrets": {NAME: value}}]: what each
                                machine's environment holds (plaintext)
    GET  /_fake/requests     -> [{"method", "path", "headers": {"authorization": "present" | "wrong" |
                                  "absent", "content-type", "user-agent"}, "body", "status",
                                  "at" (the fake's monotonic clock when it arrived)}]
                                The token is never logged, nor any value: a logged body has each
                                value replaced by "<set>" (null stays null).
    POST /_fake/reset-log, POST /_fake/faults
"""

import hashlib
import http
import json
import os
import re
import sys
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import fakelib
from fakelib import BadState, dumps

JSON = "application/json"
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOGGED_HEADERS = ("content-type", "user-agent")
RAW_PREFIX = "FlyV1 "


def _now():
    """Now, to the microsecond, as Fly's dates are (flyctl compares them to the fraction)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _err(status, message):
    return status, {"Content-Type": JSON}, dumps({"error": message})


def _ok(obj, status=200):
    return status, {"Content-Type": JSON}, dumps(obj)


def _digest(value):
    """Fly's shape: 16 hex digits that change with the value (flyctl shows them as `Digest`)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


LEASE_TTL = 30  # seconds, Fly's default when the request names none
NONCE = "fly-machine-lease-nonce"  # the header fly-go sends a lease's nonce in
WAIT_STATES = {"started", "stopped", "suspended", "destroyed"}


NO_DATE = object()  # a date the state says Fly does not send


class App:
    """One app: its secrets, the secrets version, each version's values, releases, machines."""

    def __init__(self, name, spec):
        if not isinstance(spec, dict):
            raise BadState(f"app {name!r} must be an object")
        self.secrets = {}
        for sname, s in (spec.get("secrets") or {}).items():
            stamp = s["updated_at"] if "updated_at" in s else "2024-01-01T00:00:00Z"
            stamp = NO_DATE if stamp is None else stamp
            created = s.get("created_at") or stamp
            self.secrets[sname] = {"value": s.get("value", ""), "created_at": created, "updated_at": stamp}
        self.version = int(spec.get("secrets_version") or 1)
        self.values_at = {self.version: self.values()}
        self.releases = []
        for r in spec.get("releases") or []:
            if not isinstance(r, dict) or not isinstance(r.get("version"), int):
                raise BadState(f"a release of {name!r} needs an integer version")
            self.add_release(r["version"], r.get("created_at") or "2024-01-01T00:00:00Z")
        self.machines = {}
        for i, m in enumerate(spec.get("machines") or []):
            if not isinstance(m, dict) or not m.get("id"):
                raise BadState(f"a machine of {name!r} needs an id")
            stamp = m.get("updated_at") or "2024-01-01T00:00:00Z"
            release = m.get("release_version")
            metadata = {"fly_platform_version": "v2", "fly_process_group": "app"}
            if release is not None:
                metadata["fly_release_version"] = str(release)
            self.machines[m["id"]] = {
                "id": m["id"], "name": m.get("name") or f"machine-{i + 1}", "state": m.get("state") or "started",
                "region": m.get("region") or "ams", "instance_id": f"01INST{i:04}", "created_at": stamp,
                "updated_at": stamp, "config": {"image": "registry.fly.io/app:deployment-1", "env": {},
                                                "metadata": metadata},
                "image_ref": {"registry": "registry.fly.io", "repository": name, "tag": "deployment-1"},
                "_secrets_version": self.version, "_lease": None, "_starts": m.get("starts", True),
            }
            held = m.get("lease")
            if held:  # someone else's lease: {"owner", "ttl"}
                self.machines[m["id"]]["_lease"] = {
                    "nonce": os.urandom(8).hex(), "owner": held.get("owner") or "someone@example.com",
                    "description": "held by the state", "expires_at": int(time.time()) + int(held.get("ttl") or 600),
                    "version": "01LEASE"}

    def values(self):
        return {n: s["value"] for n, s in self.secrets.items()}

    def add_release(self, version, created_at):
        self.releases.append({"id": f"rel_{version}", "version": version, "stable": True, "in_progress": False,
                              "status": "complete", "strategy": "ROLLING", "user": "fake@example.com",
                              "created_at": created_at, "image_ref": "registry.fly.io/app:deployment-1"})


class State(fakelib.Recorder):
    def __init__(self, data):
        super().__init__(data)
        token = self.token
        self.auth_ok = token if token.startswith(RAW_PREFIX) else "Bearer " + token
        self.apps = {name: App(name, spec) for name, spec in (data.get("apps") or {}).items()}




def _listed(secrets):
    out = []
    for n, s in sorted(secrets.items()):
        item = {"name": n, "digest": _digest(s["value"])}
        item.update({k: s[k] for k in ("created_at", "updated_at") if s[k] is not NO_DATE})
        out.append(item)
    return out


def _post_body(method, body):
    """-> (the JSON body of a POST, None), or (None, the refusal)."""
    if method != "POST":
        return None, _err(405, "Method Not Allowed")
    try:
        return json.loads(body), None
    except ValueError:
        return None, _err(400, "invalid JSON body")


def _machine(m):
    return {k: v for k, v in m.items() if not k.startswith("_")}


LAUNCH_FIELDS = {"config", "region", "name", "skip_launch", "skip_service_registration", "skip_secrets",
                 "min_secrets_version", "lease_ttl"}


def _logged_body(body):
    """The request body with every value hidden: names and nulls only (a machine update: its
    fields, min_secrets_version shown, the rest "<set>")."""
    if not body:
        return None
    try:
        req = json.loads(body)
    except ValueError:
        return f"(not JSON, {len(body)} bytes)"
    if isinstance(req, dict) and isinstance(req.get("values"), dict):
        return dict(req, values={k: None if v is None else "<set>" for k, v in req["values"].items()})
    if isinstance(req, dict) and "config" in req:
        return {k: v if k == "min_secrets_version" else "<set>" for k, v in req.items()}
    return "(unexpected shape)"


def _machine_of(st, app, mid):
    """Machine `mid` of `app` (with st.lock held), or the 404 Fly answers: (machine, None) or (None, error)."""
    a = st.apps.get(app)
    if a is None:
        return None, _err(404, "app not found")
    m = a.machines.get(mid)
    if m is None:
        return None, _err(404, "machine not found")
    return m, None


def _held(m):
    """The machine's lease while it lasts, else None."""
    lease = m["_lease"]
    if lease is not None and lease["expires_at"] <= time.time():
        m["_lease"] = lease = None
    return lease


class Handler(fakelib.Handler):
    server_version = "fake-fly/1"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300

    def do_GET(self):
        split = urlsplit(self.path)
        path = split.path
        body = self.read_body()
        if path.startswith("/_fake/"):
            self.send(*self._control(self.command, path, body))
        else:
            self._api(path, {k: v[0] for k, v in parse_qs(split.query).items()}, body)

    do_PUT = do_DELETE = do_POST = do_PATCH = do_GET

    def _api(self, path, query, body):
        st = self.server.state
        method = self.command
        got = self.headers.get("Authorization")
        auth = "absent" if got is None else ("present" if got == st.auth_ok else "wrong")
        entry = {"method": method, "path": path, "headers": {"authorization": auth}, "body": _logged_body(body),
                 "at": time.monotonic()}
        for h in LOGGED_HEADERS:
            if self.headers.get(h) is not None:
                entry["headers"][h] = self.headers.get(h)
        if self.headers.get(NONCE) is not None:
            entry["headers"][NONCE] = "present"

        fault = st.take_fault(path, method=method)
        if fault and fault.get("delay_ms"):
            time.sleep(fault["delay_ms"] / 1000.0)
        if fault and fault.get("status") is not None:
            status = int(fault["status"])
            phrase = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "Error"
            response = _err(status, fault.get("message") or phrase)
            if fault.get("retry_after") is not None:
                response[1]["Retry-After"] = str(fault["retry_after"])
        elif auth != "present":
            response = _err(401, "You must be authenticated to view this.")
        else:
            response = self._route(method, path, query, body)
        entry["status"] = response[0]
        with st.lock:
            st.log.append(entry)
        self.send(*response)

    def _route(self, method, path, query, body):
        st = self.server.state
        segs = [unquote(s) for s in path.strip("/").split("/")]
        if len(segs) == 5 and segs[:3] == ["api", "v1", "apps"] and segs[4] == "releases" and method == "GET":
            return self._releases(segs[3], query)
        if len(segs) in (4, 5) and segs[:2] == ["v1", "apps"] and segs[3] == "machines":
            return self._machines(method, segs[2], segs[4] if len(segs) == 5 else None, body)
        if len(segs) == 6 and segs[:2] == ["v1", "apps"] and segs[3] == "machines" and segs[5] == "lease":
            return self._lease(method, segs[2], segs[4], query, body)
        if len(segs) == 6 and segs[:2] == ["v1", "apps"] and segs[3] == "machines" and segs[5] == "wait":
            return self._wait(method, segs[2], segs[4], query)
        if len(segs) != 4 or segs[:2] != ["v1", "apps"] or segs[3] != "secrets":
            return _err(404, "Not Found")
        app = segs[2]
        with st.lock:
            if app not in st.apps:
                return _err(404, "app not found")
            if method == "GET":
                wanted = query.get("version")
                if wanted is not None and (not wanted.isdigit() or int(wanted) > st.apps[app].version):
                    return _err(404, f"secrets version {wanted} not found")
                return _ok({"secrets": _listed(st.apps[app].secrets)})
        req, refused = _post_body(method, body)
        if refused:
            return refused
        values = req.get("values") if isinstance(req, dict) else None
        if not isinstance(values, dict):
            return _err(400, "body must be {\"values\": {NAME: value or null}}")
        for name, value in values.items():
            if not NAME_RE.match(name):
                return _err(422, f"invalid secret name {name!r}")
            if value is not None and not isinstance(value, str):
                return _err(422, f"the value of {name} must be a string or null")
        with st.lock:
            a = st.apps[app]
            secrets = a.secrets
            now = _now()
            for name, value in values.items():
                if value is None:
                    secrets.pop(name, None)
                else:
                    old = secrets.get(name)
                    secrets[name] = {"value": value, "created_at": old["created_at"] if old else now, "updated_at": now}
            a.version += 1
            a.values_at[a.version] = a.values()
            return _ok({"secrets": _listed(secrets), "version": a.version})

    def _releases(self, app, query):
        st = self.server.state
        with st.lock:
            if app not in st.apps:
                return _err(404, "app not found")
            releases = sorted(st.apps[app].releases, key=lambda r: -r["version"])
        limit = query.get("limit")
        if limit is not None and limit.isdigit():
            releases = releases[: int(limit)]
        return _ok({"releases": releases})

    def _machines(self, method, app, mid, body):
        st = self.server.state
        with st.lock:
            a = st.apps.get(app)
            if a is None:
                return _err(404, "app not found")
            if mid is None:
                if method != "GET":
                    return _err(405, "Method Not Allowed")
                return _ok([_machine(m) for m in a.machines.values()])
            m = a.machines.get(mid)
            if m is None:
                return _err(404, "machine not found")
            if method == "GET":
                return _ok(_machine(m))
        req, refused = _post_body(method, body)
        if refused:
            return refused
        if not isinstance(req, dict) or not isinstance(req.get("config"), dict):
            return _err(400, "body must be a LaunchMachineInput with a config")
        extra = set(req) - LAUNCH_FIELDS
        if extra:
            return _err(400, f"unknown fields {sorted(extra)}")
        minv = req.get("min_secrets_version")
        if minv is not None and (not isinstance(minv, int) or isinstance(minv, bool) or minv < 0):
            return _err(400, "min_secrets_version must be a non-negative integer")
        with st.lock:
            lease, nonce = _held(m), self.headers.get(NONCE)
            if lease is not None and nonce != lease["nonce"]:
                return _err(409, f"machine {mid} is leased by {lease['owner']}: the update needs its nonce")
            if lease is None and nonce is not None:
                return _err(409, f"machine {mid} has no lease for that nonce")
            if minv is not None and minv > a.version:
                return _err(422, f"secrets version {minv} not found")
            now = _now()
            release = (req["config"].get("metadata") or {}).get("fly_release_version")
            if release is not None and str(release).isdigit() and int(release) not in {
                    r["version"] for r in a.releases}:
                a.add_release(int(release), now)
            m["config"] = req["config"]
            for k in ("region", "name"):
                if req.get(k):
                    m[k] = req[k]
            if not req.get("skip_secrets"):
                m["_secrets_version"] = a.version
            m["instance_id"] = "01" + os.urandom(8).hex().upper()  # a new one for each version
            m["updated_at"] = now
            # A machine that does not start stays `created` (a wait for `started` times out).
            m["state"] = "stopped" if req.get("skip_launch") else ("started" if m["_starts"] else "created")
            return _ok(_machine(m))

    def _lease(self, method, app, mid, query, body):
        """POST acquires (or, with the holder's nonce, refreshes; someone else's lease is 409),
        GET shows, DELETE with the nonce releases. A lease: {"status": "success", "data": {"nonce",
        "expires_at", "owner", "description", "version"}}, as fly-go's MachineLease."""
        st = self.server.state
        with st.lock:
            m, missing = _machine_of(st, app, mid)
            if missing:
                return missing
            lease, nonce = _held(m), self.headers.get(NONCE)
            if method == "GET":
                return _ok({"status": "success", "data": lease}) if lease else _err(404, "lease not found")
            if method == "DELETE":
                if lease is None:
                    return _err(404, "lease not found")
                if nonce != lease["nonce"]:
                    return _err(409, "the lease is held under another nonce")
                m["_lease"] = None
                return _ok({"status": "success"})
            if method != "POST":
                return _err(405, "Method Not Allowed")
            if lease is not None and nonce != lease["nonce"]:
                return _err(409, f"lease currently held by {lease['owner']}, expires at {lease['expires_at']}")
            try:
                req = json.loads(body) if body else {}
                ttl = int(query.get("ttl") or (req or {}).get("ttl") or LEASE_TTL)
            except (ValueError, TypeError, AttributeError):
                return _err(400, "ttl must be a number of seconds")
            m["_lease"] = lease = {
                "nonce": lease["nonce"] if lease else os.urandom(8).hex(), "owner": "token-owner@example.com",
                "description": (req or {}).get("description") or "", "expires_at": int(time.time()) + ttl,
                "version": "01" + os.urandom(6).hex().upper()}
            return _ok({"status": "success", "data": lease})

    def _wait(self, method, app, mid, query):
        """GET ?instance_id=I&state=S&timeout=T: 200 {"ok": true} once machine `mid` runs instance I
        in state S; 408 when it does not reach it (the fake answers at once instead of waiting T);
        400 for a state Fly cannot wait for or a timeout over 60 s."""
        if method != "GET":
            return _err(405, "Method Not Allowed")
        st = self.server.state
        state = query.get("state") or "started"
        timeout = query.get("timeout") or "60"
        if state not in WAIT_STATES or not timeout.isdigit() or not 0 < int(timeout) <= 60:
            return _err(400, "state must be started, stopped, suspended or destroyed; timeout 1 to 60 s")
        with st.lock:
            m, missing = _machine_of(st, app, mid)
            if missing:
                return missing
            wanted = query.get("instance_id")
            if wanted is not None and wanted != m["instance_id"]:
                return _err(400, f"machine {mid} does not run instance {wanted}")
            if m["state"] != state:
                return _err(408, f"deadline_exceeded: machine {mid} is {m['state']}, not {state}")
            return _ok({"ok": True})

    def _control(self, method, path, body):
        handled = self.server.state.control(method, path, body)
        if handled is not None:
            return handled
        st = self.server.state
        if path.startswith("/_fake/secrets/") and method == "GET":
            app = unquote(path[len("/_fake/secrets/"):])
            with st.lock:
                if app not in st.apps:
                    return _err(404, "app not found")
                return _ok({n: {k: None if v is NO_DATE else v for k, v in dict(s, digest=_digest(s["value"])).items()}
                            for n, s in st.apps[app].secrets.items()})
        if path.startswith("/_fake/secrets/") and method == "POST":
            return self._set_outside(unquote(path[len("/_fake/secrets/"):]), body)
        if path.startswith("/_fake/machines/") and method == "GET":
            app = unquote(path[len("/_fake/machines/"):])
            with st.lock:
                a = st.apps.get(app)
                if a is None:
                    return _err(404, "app not found")
                return _ok([{"id": m["id"], "secrets_version": m["_secrets_version"],
                             "secrets": a.values_at[m["_secrets_version"]]} for m in a.machines.values()])
        return _err(404, "Not Found")


    def _set_outside(self, app, body):
        """Someone else's write (not escort's): {NAME: {"value", "updated_at"?}}, as a secrets write
        would do it (a new version), each date now unless given (then kept as given)."""
        st = self.server.state
        try:
            changes = json.loads(body)
        except ValueError:
            return _err(400, "invalid JSON body")
        with st.lock:
            a = st.apps.get(app)
            if a is None:
                return _err(404, "app not found")
            now = _now()
            for name, s in changes.items():
                old = a.secrets.get(name)
                a.secrets[name] = {"value": s["value"], "created_at": old["created_at"] if old else now,
                                   "updated_at": s.get("updated_at") or now}
            a.version += 1
            a.values_at[a.version] = a.values()
            return _ok({"version": a.version})


def main(argv=None):
    return fakelib.serve("fake-fly", "Fake Fly.io Machines API (app secrets) for tests.", State, Handler, argv)


if __name__ == "__main__":
    sys.exit(main())
