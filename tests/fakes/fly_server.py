#!/usr/bin/env python3
"""A fake Fly.io Machines API, app secrets only, for escort's tests.

Test support only; Python 3 standard library. It speaks the part of the Machines API that
escort's `fly:APP` target uses, with the shapes of Fly's published description (schemas
`AppSecrets`, `AppSecret`, `AppSecretsUpdateRequest`, `AppSecretsUpdateResp`; errors are
`{"error": "..."}`, as Fly's Go client `flaps` reads them):

    GET  /v1/apps/{app}/secrets   -> 200 {"secrets": [{"name", "digest", "created_at", "updated_at"}]}
                                     (sorted by name; values are never listed)
    POST /v1/apps/{app}/secrets   {"values": {"A": "v", "B": null}}
                                  -> 200 {"secrets": [...as above, after the change], "version": N}
                                     A string sets, null deletes; the whole change applies or none of it.

Assumptions (not checked against the live service): an unknown app is 404
`{"error": "app not found"}`; a missing or wrong token is 401; a name that is not an environment
variable name (`[A-Za-z_][A-Za-z0-9_]*`) or a value that is not a string or null is 422 and nothing
is changed; deleting a name the app lacks changes nothing; timestamps are RFC 3339 in UTC.

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
                                     "updated_at": "2024-01-01T00:00:00Z"}}}  # optional
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
import re
import sys
import time
from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

import fakelib
from fakelib import BadState, dumps

JSON = "application/json"
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOGGED_HEADERS = ("content-type", "user-agent")
RAW_PREFIX = "FlyV1 "


def _now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _err(status, message):
    return status, {"Content-Type": JSON}, dumps({"error": message})


def _ok(obj, status=200):
    return status, {"Content-Type": JSON}, dumps(obj)


def _digest(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


class State(fakelib.Recorder):
    def __init__(self, data):
        super().__init__(data)
        token = self.token
        self.auth_ok = token if token.startswith(RAW_PREFIX) else "Bearer " + token
        self.apps = {}
        for app, spec in (data.get("apps") or {}).items():
            if not isinstance(spec, dict):
                raise BadState(f"app {app!r} must be an object")
            secrets = {}
            for name, s in (spec.get("secrets") or {}).items():
                stamp = s.get("updated_at") or "2024-01-01T00:00:00Z"
                secrets[name] = {
                    "value": s.get("value", ""),
                    "created_at": s.get("created_at") or stamp,
                    "updated_at": stamp,
                }
            self.apps[app] = secrets
        self.version = 1




def _listed(secrets):
    return [{"name": n, "digest": _digest(s["value"]), "created_at": s["created_at"], "updated_at": s["updated_at"]}
            for n, s in sorted(secrets.items())]


def _logged_body(body):
    """The request body with every value hidden: names and nulls only."""
    if not body:
        return None
    try:
        req = json.loads(body)
    except ValueError:
        return f"(not JSON, {len(body)} bytes)"
    if isinstance(req, dict) and isinstance(req.get("values"), dict):
        return dict(req, values={k: None if v is None else "<set>" for k, v in req["values"].items()})
    return "(unexpected shape)"


class Handler(fakelib.Handler):
    server_version = "fake-fly/1"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300

    def do_GET(self):
        path = urlsplit(self.path).path
        body = self.read_body()
        if path.startswith("/_fake/"):
            self.send(*self._control(self.command, path, body))
        else:
            self._api(path, body)

    do_PUT = do_DELETE = do_POST = do_PATCH = do_GET

    def _api(self, path, body):
        st = self.server.state
        method = self.command
        got = self.headers.get("Authorization")
        auth = "absent" if got is None else ("present" if got == st.auth_ok else "wrong")
        entry = {"method": method, "path": path, "headers": {"authorization": auth}, "body": _logged_body(body),
                 "at": time.monotonic()}
        for h in LOGGED_HEADERS:
            if self.headers.get(h) is not None:
                entry["headers"][h] = self.headers.get(h)

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
            response = self._route(method, path, body)
        entry["status"] = response[0]
        with st.lock:
            st.log.append(entry)
        self.send(*response)

    def _route(self, method, path, body):
        st = self.server.state
        segs = [unquote(s) for s in path.strip("/").split("/")]
        if len(segs) != 4 or segs[:2] != ["v1", "apps"] or segs[3] != "secrets":
            return _err(404, "Not Found")
        app = segs[2]
        with st.lock:
            if app not in st.apps:
                return _err(404, "app not found")
            if method == "GET":
                return _ok({"secrets": _listed(st.apps[app])})
        if method != "POST":
            return _err(405, "Method Not Allowed")
        try:
            req = json.loads(body)
        except ValueError:
            return _err(400, "invalid JSON body")
        values = req.get("values") if isinstance(req, dict) else None
        if not isinstance(values, dict):
            return _err(400, "body must be {\"values\": {NAME: value or null}}")
        for name, value in values.items():
            if not NAME_RE.match(name):
                return _err(422, f"invalid secret name {name!r}")
            if value is not None and not isinstance(value, str):
                return _err(422, f"the value of {name} must be a string or null")
        with st.lock:
            secrets = st.apps[app]
            now = _now()
            for name, value in values.items():
                if value is None:
                    secrets.pop(name, None)
                else:
                    old = secrets.get(name)
                    secrets[name] = {"value": value, "created_at": old["created_at"] if old else now, "updated_at": now}
            st.version += 1
            return _ok({"secrets": _listed(secrets), "version": st.version})

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
                return _ok({n: dict(s, digest=_digest(s["value"])) for n, s in st.apps[app].items()})
        return _err(404, "Not Found")


def main(argv=None):
    return fakelib.serve("fake-fly", "Fake Fly.io Machines API (app secrets) for tests.", State, Handler, argv)


if __name__ == "__main__":
    sys.exit(main())
