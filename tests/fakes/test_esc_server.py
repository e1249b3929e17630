"""Self-tests of the fake ESC server (tests/fakes/esc_server.py).

Run with the peers venv: target/peers/venv/bin/pytest tests/fakes
The SDK tests at the end need scripts/setup-peers.sh; without the SDKs they fail (a skip would
pass without proving anything; conftest.py fails any skip).
"""
import http.client
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from esc_eval import plain  # a Value tree as plain JSON

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FAKE = HERE / "esc_server.py"
TOKEN = "tok-123"
AUTH = {"Authorization": f"token {TOKEN}"}
ENV = "/api/esc/environments/acme/proj/dev"

STATE = {
    "token": TOKEN,
    "default_org": "acme",
    "environments": {
        "acme/proj/dev": {
            "values": {
                "environmentVariables": {
                    "A": "x",
                    "N": 3,
                    "B": True,
                    "Z": None,
                    "S": {"fn::secret": "shh"},
                    "OBJ": {"k": {"fn::secret": "v"}, "arr": [1, "two"]},
                    "SO": {"fn::secret": {"a": "b", "l": [1, {"m": "n"}]}},
                },
                "files": {"KUBECONFIG": {"fn::secret": "apiVersion: v1\n"}},
                "pulumiConfig": {"region": "eu"},
            },
            "yaml": "values:\n  environmentVariables:\n    A: x\n",
            "tags": {"stable": 1, "first": 1},
            "history": [
                {"yaml": "values: {}\n", "values": {"environmentVariables": {"OLD": "1"}}}
            ],
        },
        "acme/proj/raw": {
            "properties_raw": {"environmentVariables": {"value": {"R": {"value": "no-trace"}}}},
            "yaml": "values: {}\n",
        },
        "acme/other/prod": {"values": {"environmentVariables": {"P": "p"}}},
    },
    "faults": [],
}


class Fake:
    def __init__(self, state, tmp):
        path = Path(tmp) / "state.json"
        path.write_text(json.dumps(state))
        self.proc = subprocess.Popen(
            [sys.executable, str(FAKE), "--state", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.ready_line = self.proc.stdout.readline().decode()
        m = re.fullmatch(r"READY http://127\.0\.0\.1:(\d+)\n", self.ready_line)
        assert m, f"bad READY line {self.ready_line!r}; stderr: {self.proc.stderr.read()!r}"
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def req(self, method, path, headers=None, body=None, conn=None):
        c = conn or self.conn()
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def json(self, method, path, headers=AUTH, body=None):
        status, hs, data = self.req(method, path, headers, body)
        return status, hs, (json.loads(data) if data else None)

    def faults(self, faults):
        status, _, _ = self.req("POST", "/_fake/faults", body=json.dumps(faults))
        assert status == 200

    def log(self):
        return json.loads(self.req("GET", "/_fake/requests")[2])

    def reset(self):
        self.faults([])
        self.req("POST", "/_fake/reset-log")

    def open_read(self, env=ENV):
        status, _, body = self.json("POST", env + "/open?duration=1h")
        assert status == 200, body
        status, _, props = self.json("GET", f"{env}/open/{body['id']}")
        assert status == 200, props
        return props

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    f = Fake(STATE, tmp_path_factory.mktemp("fake"))
    yield f
    f.stop()


@pytest.fixture
def clean(fake):
    fake.reset()
    yield fake
    fake.reset()


def walk(value, path="$"):
    """Yield (path, Value) for every Value node."""
    yield path, value
    inner = value["value"]
    if isinstance(inner, dict):
        for k, v in inner.items():
            yield from walk(v, f"{path}.{k}")
    elif isinstance(inner, list):
        for i, v in enumerate(inner):
            yield from walk(v, f"{path}[{i}]")




# ---- open and read ---------------------------------------------------------------------------


def test_open_returns_string_id_and_read_returns_properties(clean):
    status, hs, body = clean.json("POST", ENV + "/open?duration=1h")
    assert status == 200 and hs["content-type"] == "application/json"
    assert isinstance(body["id"], str) and body["id"]
    status, _, env = clean.json("GET", f"{ENV}/open/{body['id']}")
    assert status == 200
    props = env["properties"]
    assert set(props) == {"environmentVariables", "files", "pulumiConfig"}
    ev = plain(props["environmentVariables"])
    assert ev == {
        "A": "x",
        "N": 3,
        "B": True,
        "Z": None,
        "S": "shh",
        "OBJ": {"k": "v", "arr": [1, "two"]},
        "SO": {"a": "b", "l": [1, {"m": "n"}]},
    }
    assert plain(props["files"]) == {"KUBECONFIG": "apiVersion: v1\n"}
    assert plain(props["pulumiConfig"]) == {"region": "eu"}


def test_open_without_duration_and_sessions_are_distinct(clean):
    a = clean.json("POST", ENV + "/open")[2]["id"]
    b = clean.json("POST", ENV + "/open")[2]["id"]
    assert a != b


def test_every_value_has_a_trace_with_a_range(clean):
    props = clean.open_read()["properties"]
    n = 0
    for top in props.values():
        for path, v in walk(top):
            n += 1
            assert set(v) <= {"value", "secret", "unknown", "trace"}, path
            rng = v["trace"]["def"]
            assert rng["environment"] == "proj/dev", path
            for end in ("begin", "end"):
                assert set(rng[end]) == {"line", "column", "byte"}, path
                assert all(isinstance(rng[end][k], int) for k in ("line", "column", "byte"))
    assert n >= 20


def test_secret_marks_node_and_all_descendants(clean):
    props = clean.open_read()["properties"]
    secret = {p for top in props.values() for p, v in walk(top) if v.get("secret")}
    assert secret == {
        "$.S",
        "$.OBJ.k",
        "$.SO",
        "$.SO.a",
        "$.SO.l",
        "$.SO.l[0]",
        "$.SO.l[1]",
        "$.SO.l[1].m",
        "$.KUBECONFIG",
    }
    ev = props["environmentVariables"]
    assert "secret" not in ev and "secret" not in ev["value"]["A"]
    assert ev["value"]["S"]["secret"] is True


def test_properties_raw_is_served_verbatim(clean):
    props = clean.open_read("/api/esc/environments/acme/proj/raw")
    assert props == {"properties": STATE["environments"]["acme/proj/raw"]["properties_raw"]}


def test_open_at_version_number_tag_latest_and_unknown(clean):
    for version, expect in (("1", {"OLD": "1"}), ("first", {"OLD": "1"}), ("stable", {"OLD": "1"})):
        status, _, body = clean.json("POST", f"{ENV}/versions/{version}/open?duration=1h")
        assert status == 200, version
        env = clean.json("GET", f"{ENV}/open/{body['id']}")[2]
        assert plain(env["properties"]["environmentVariables"]) == expect, version
    for version in ("2", "latest"):
        body = clean.json("POST", f"{ENV}/versions/{version}/open")[2]
        env = clean.json("GET", f"{ENV}/open/{body['id']}")[2]
        assert plain(env["properties"]["environmentVariables"])["A"] == "x"
    for version in ("99", "nope", "0"):
        status, _, body = clean.json("POST", f"{ENV}/versions/{version}/open")
        assert status == 404 and body["code"] == 404, version


def test_read_property(clean):
    sid = clean.json("POST", ENV + "/open")[2]["id"]
    status, _, v = clean.json("GET", f"{ENV}/open//{sid}?property=environmentVariables.OBJ.arr[1]")
    assert status == 200 and v["value"] == "two" and "trace" in v
    status, _, v = clean.json("GET", f"{ENV}/open//{sid}?property=environmentVariables.NOPE")
    assert status == 404


def test_unknown_env_and_session_are_404(clean):
    status, hs, body = clean.json("POST", "/api/esc/environments/acme/proj/nope/open")
    assert status == 404
    assert body == {"message": "Environment 'acme/proj/nope' not found", "code": 404}
    status, _, body = clean.json("GET", f"{ENV}/open/123456789")
    assert status == 404 and body["code"] == 404
    sid = clean.json("POST", "/api/esc/environments/acme/other/prod/open")[2]["id"]
    status, _, _ = clean.json("GET", f"{ENV}/open/{sid}")
    assert status == 404, "a session must only be readable under its own environment"
    status, _, body = clean.json("GET", "/api/esc/environments/acme/proj/nope")
    assert status == 404 and "nope" in body["message"]


def test_bad_duration_is_400(clean):
    status, _, body = clean.json("POST", ENV + "/open?duration=forever")
    assert status == 400 and body["code"] == 400


def test_default_org(clean):
    status, _, body = clean.json("GET", "/api/user/organizations/default")
    assert status == 200 and body == {"gitHubLogin": "acme"}


def test_list_environments(clean):
    status, _, body = clean.json("GET", "/api/esc/environments/acme")
    assert status == 200
    names = sorted((e["project"], e["name"]) for e in body["environments"])
    assert names == [("other", "prod"), ("proj", "dev"), ("proj", "raw")]


# ---- auth and the request log ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers,state",
    [
        ({}, "absent"),
        ({"Authorization": "token wrong"}, "wrong"),
        ({"Authorization": f"Bearer {TOKEN}"}, "wrong"),
        ({"Authorization": TOKEN}, "wrong"),
    ],
)
def test_auth_required_everywhere(clean, headers, state):
    for method, path in (
        ("POST", ENV + "/open"),
        ("GET", ENV + "/open/1"),
        ("GET", ENV),
        ("GET", ENV + "/versions"),
        ("GET", "/api/user/organizations/default"),
        ("POST", "/api/esc/environments/acme/proj/nope/open"),
    ):
        status, _, body = clean.json(method, path, headers=headers)
        assert status == 401, (method, path)
        assert body == {"message": "Unauthorized", "code": 401}
    assert {e["headers"]["authorization"] for e in clean.log()} == {state}


def test_request_log_records_without_the_token(clean):
    clean.req(
        "POST",
        ENV + "/open?duration=2h",
        {**AUTH, "Accept": "application/vnd.pulumi+8", "User-Agent": "escort/0.1.0"},
    )
    clean.req("PATCH", ENV, {**AUTH, "If-Match": '"nope"', "Content-Type": "application/x-yaml"},
              body="values: {}\n")
    clean.req("GET", "/_fake/faults")  # control requests are not logged
    log = clean.log()
    assert len(log) == 2
    assert log[0]["method"] == "POST" and log[0]["path"] == ENV + "/open"
    assert log[0]["query"] == {"duration": "2h"}
    assert log[0]["headers"] == {
        "authorization": "present",
        "accept": "application/vnd.pulumi+8",
        "user-agent": "escort/0.1.0",
    }
    assert log[0]["body"] is None
    assert log[1]["headers"]["if-match"] == '"nope"'
    assert log[1]["headers"]["content-type"] == "application/x-yaml"
    assert log[1]["body"] == "values: {}\n"
    raw = clean.req("GET", "/_fake/requests")[2].decode()
    assert TOKEN not in raw
    clean.req("POST", "/_fake/reset-log")
    assert clean.log() == []


# ---- definition, etag, revisions -------------------------------------------------------------


def test_definition_get_patch_etag_and_versions(tmp_path):
    f = Fake(STATE, tmp_path)
    try:
        status, hs, body = f.req("GET", ENV, AUTH)
        assert status == 200
        assert hs["content-type"] == "application/x-yaml"
        assert body.decode() == STATE["environments"]["acme/proj/dev"]["yaml"]
        etag = hs["etag"]
        assert etag

        status, hs2, body = f.req("HEAD", ENV, AUTH)
        assert status == 200 and hs2["etag"] == etag and body == b""

        new = "values:\n  environmentVariables:\n    A: y\n"
        status, _, body = f.req("PATCH", ENV, {**AUTH, "If-Match": '"stale"'}, body=new)
        assert status == 409
        assert json.loads(body)["code"] == 409
        assert f.req("GET", ENV, AUTH)[2].decode() != new

        status, hs, body = f.req("PATCH", ENV, {**AUTH, "If-Match": etag,
                                                "Content-Type": "application/x-yaml"}, body=new)
        assert status == 200
        assert json.loads(body) == {"diagnostics": []}
        new_etag = hs["etag"]
        assert new_etag != etag
        status, hs, body = f.req("GET", ENV, AUTH)
        assert body.decode() == new and hs["etag"] == new_etag

        # the old etag is now stale
        status, _, _ = f.req("PATCH", ENV, {**AUTH, "If-Match": etag}, body="values: {}\n")
        assert status == 409

        status, _, revs = f.json("GET", ENV + "/versions")
        assert status == 200
        assert [r["number"] for r in revs] == [3, 2, 1]
        for r in revs:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["created"]), r
            assert r["creatorLogin"]
        assert revs[-1]["tags"] == ["first", "stable"]
        assert revs[0]["created"] > revs[1]["created"]
        assert [r["number"] for r in f.json("GET", ENV + "/versions?count=1")[2]] == [3]
        assert [r["number"] for r in f.json("GET", ENV + "/versions?before=3")[2]] == [2, 1]

        assert f.req("GET", ENV + "/versions/3", AUTH)[2].decode() == new
        status, hs, body = f.req("GET", ENV + "/versions/2", AUTH)
        assert status == 200 and hs["content-type"] == "application/x-yaml"
        assert body.decode() == STATE["environments"]["acme/proj/dev"]["yaml"]
        assert f.req("GET", ENV + "/versions/stable", AUTH)[2].decode() == "values: {}\n"
        assert f.req("GET", ENV + "/versions/9", AUTH)[0] == 404

        status, _, tags = f.json("GET", ENV + "/versions/tags")
        assert status == 200
        assert [(t["name"], t["revision"]) for t in tags["tags"]] == [("first", 1), ("stable", 1)]

        # the PATCHed revision's values come from its YAML; older revisions keep theirs
        props = f.open_read()
        assert plain(props["properties"]["environmentVariables"]) == {"A": "y"}
        sid = f.json("POST", ENV + "/versions/2/open")[2]["id"]
        assert plain(f.json("GET", f"{ENV}/open/{sid}")[2]["properties"]["environmentVariables"])["A"] == "x"
        # a PATCH without If-Match is accepted, as the real service does
        assert f.req("PATCH", ENV, AUTH, body="values: {}\n")[0] == 200
    finally:
        f.stop()


PATCHED = """\
# a comment
imports:
  - proj/base
values:
  shared: &shared
    region: eu
  environmentVariables:
    PLAIN: "hello"
    NUM: 3
    NEW_SECRET:
      fn::secret: "s3cret\\nline"
    OLD_SECRET:
      fn::secret:
        ciphertext: ZXNjeAAAAAE=
    NESTED: {a: {fn::secret: inner}, b: [1, two]}
    INTERP: ${shared.region}
    <<: {MERGED: m}
  pulumiConfig: *shared
"""


def patched_state():
    """STATE with what PATCHED needs: the environment it imports, the ciphertext it keeps."""
    state = json.loads(json.dumps(STATE))
    state["ciphertexts"] = {"ZXNjeAAAAAE=": "old"}
    state["environments"]["acme/proj/base"] = {"values": {"fromBase": "b", "shared": {"zone": "z"}}}
    return state


def test_patch_derives_values_and_secrets_from_the_yaml(tmp_path):
    f = Fake(patched_state(), tmp_path)
    try:
        etag = f.req("GET", ENV, AUTH)[1]["etag"]
        status, _, body = f.req("PATCH", ENV, {**AUTH, "If-Match": etag}, body=PATCHED)
        assert status == 200, body
        stored = f.req("GET", ENV, AUTH)[2].decode()
        assert "s3cret" not in stored and "# a comment\n" in stored
        assert "ciphertext: ZXNjeAAAAAE=" in stored, "an untouched ciphertext is kept"
        props = f.open_read()["properties"]
        assert set(props) == {"fromBase", "shared", "environmentVariables", "pulumiConfig"}
        assert plain(props["shared"]) == {"zone": "z", "region": "eu"}, "imported objects merge"
        ev = props["environmentVariables"]
        assert plain(ev) == {
            "PLAIN": "hello",
            "NUM": 3,
            "NEW_SECRET": "s3cret\nline",
            "OLD_SECRET": "old",
            "NESTED": {"a": "inner", "b": [1, "two"]},
            "INTERP": "eu",
            "MERGED": "m",
        }
        secret = {p for p, v in walk(ev) if v.get("secret")}
        assert secret == {"$.NEW_SECRET", "$.OLD_SECRET", "$.NESTED.a"}
        assert plain(props["pulumiConfig"]) == {"region": "eu"}
        for _, v in walk(ev):
            assert "def" in v["trace"]
    finally:
        f.stop()


@pytest.mark.parametrize(
    "text,summary",
    [
        ("values: [unclosed\n", "invalid YAML"),
        ("- a list\n", "must be a mapping"),
        ("values: text\n", "values must be a mapping"),
    ],
)
def test_patch_with_a_bad_definition_is_400_and_changes_nothing(tmp_path, text, summary):
    f = Fake(STATE, tmp_path)
    try:
        etag = f.req("GET", ENV, AUTH)[1]["etag"]
        status, _, body = f.json("PATCH", ENV, {**AUTH, "If-Match": etag}, body=text)
        assert status == 400 and summary in body["diagnostics"][0]["summary"], body
        assert f.req("GET", ENV, AUTH)[1]["etag"] == etag
        assert [r["number"] for r in f.json("GET", ENV + "/versions")[2]] == [2, 1]
        # a stale ETag is a conflict before the text is looked at
        assert f.req("PATCH", ENV, {**AUTH, "If-Match": '"stale"'}, body=text)[0] == 409
    finally:
        f.stop()


def test_python_sdk_reads_a_patched_definition(tmp_path):
    import pulumi_esc_sdk as esc
    f = Fake(patched_state(), tmp_path)
    try:
        etag = f.req("GET", ENV, AUTH)[1]["etag"]
        assert f.req("PATCH", ENV, {**AUTH, "If-Match": etag}, body=PATCHED)[0] == 200
        client = esc.EscClient(esc.Configuration(host=f.url, access_token=TOKEN))
        env, values, _ = client.open_and_read_environment("acme", "proj", "dev")
        assert values["environmentVariables"]["NEW_SECRET"] == "s3cret\nline"
        assert env.properties["environmentVariables"].value["NEW_SECRET"]["secret"] is True
        assert "secret" not in env.properties["environmentVariables"].value["PLAIN"]
    finally:
        f.stop()


def test_require_if_match(tmp_path):
    f = Fake({**STATE, "require_if_match": True}, tmp_path)
    try:
        assert f.req("PATCH", ENV, AUTH, body="values: {}\n")[0] == 428
        etag = f.req("GET", ENV, AUTH)[1]["etag"]
        assert f.req("PATCH", ENV, {**AUTH, "If-Match": etag}, body="values: {}\n")[0] == 200
    finally:
        f.stop()


# ---- faults ----------------------------------------------------------------------------------


def test_fault_status_times_and_retry_after(clean):
    clean.faults([{"op": "open", "status": 503, "times": 2, "retry_after": "1"}])
    for _ in range(2):
        status, hs, body = clean.json("POST", ENV + "/open")
        assert status == 503 and hs["retry-after"] == "1"
        assert body == {"message": "Service Unavailable", "code": 503}
    status, hs, body = clean.json("POST", ENV + "/open")
    assert status == 200 and "retry-after" not in hs
    assert json.loads(clean.req("GET", "/_fake/faults")[2])[0]["times"] == 0


def test_fault_matches_only_its_op(clean):
    clean.faults([{"op": "read", "status": 500, "times": -1}])
    status, _, body = clean.json("POST", ENV + "/open")
    assert status == 200
    for _ in range(3):
        assert clean.json("GET", f"{ENV}/open/{body['id']}")[0] == 500
    assert clean.json("GET", "/api/user/organizations/default")[0] == 200


@pytest.mark.parametrize(
    "op,method,path",
    [
        ("default_org", "GET", "/api/user/organizations/default"),
        ("definition_get", "GET", ENV),
        ("definition_patch", "PATCH", ENV),
        ("versions", "GET", ENV + "/versions"),
        ("versions", "GET", ENV + "/versions/1"),
        ("open", "POST", ENV + "/versions/1/open"),
        ("any", "GET", ENV + "/versions"),
    ],
)
def test_fault_ops(clean, op, method, path):
    clean.faults([{"op": op, "status": 502}])
    assert clean.req(method, path, AUTH, body="x" if method == "PATCH" else None)[0] == 502
    assert clean.req(method, path, AUTH, body="x" if method == "PATCH" else None)[0] != 502


def test_fault_path_contains(clean):
    clean.faults([{"op": "open", "status": 500, "path_contains": "/other/", "times": -1}])
    assert clean.json("POST", ENV + "/open")[0] == 200
    assert clean.json("POST", "/api/esc/environments/acme/other/prod/open")[0] == 500


def test_first_matching_fault_wins(clean):
    clean.faults([{"op": "open", "status": 429}, {"op": "any", "status": 500}])
    assert clean.json("POST", ENV + "/open")[0] == 429
    assert clean.json("POST", ENV + "/open")[0] == 500
    assert clean.json("POST", ENV + "/open")[0] == 200


def test_fault_body_and_diagnostics(clean):
    clean.faults([
        {"op": "open", "status": 400, "diagnostics": [{"summary": "unknown import 'base'"}]},
        {"op": "open", "status": 500, "body": "<html>oops</html>"},
    ])
    status, _, data = clean.req("POST", ENV + "/open", AUTH)
    assert status == 400 and json.loads(data) == {"diagnostics": [{"summary": "unknown import 'base'"}]}
    status, _, data = clean.req("POST", ENV + "/open", AUTH)
    assert status == 500 and data == b"<html>oops</html>"


def test_fault_delay(clean):
    clean.faults([{"op": "open", "delay_ms": 400}])
    t = time.monotonic()
    status, _, _ = clean.json("POST", ENV + "/open")
    assert status == 200  # no status: answers normally after the delay
    assert time.monotonic() - t >= 0.4
    clean.faults([{"op": "open", "delay_ms": 2000, "status": 200}])
    c = clean.conn(timeout=0.3)
    with pytest.raises(TimeoutError):
        c.request("POST", ENV + "/open", headers=AUTH)
        c.getresponse().read()
    c.close()


def test_fault_truncate(clean):
    sid = clean.json("POST", ENV + "/open")[2]["id"]
    clean.faults([{"op": "read", "truncate": True}])
    c = clean.conn()
    c.request("GET", f"{ENV}/open/{sid}", headers=AUTH)
    r = c.getresponse()
    assert r.status == 200
    with pytest.raises(http.client.IncompleteRead):
        r.read()
    c.close()
    assert clean.json("GET", f"{ENV}/open/{sid}")[0] == 200


def test_fault_malformed(clean):
    clean.faults([{"op": "read", "malformed": True}])
    sid = clean.json("POST", ENV + "/open")[2]["id"]
    status, hs, data = clean.req("GET", f"{ENV}/open/{sid}", AUTH)
    assert status == 200 and hs["content-type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(data)


def test_faults_endpoint_rejects_non_lists(clean):
    assert clean.req("POST", "/_fake/faults", body='{"op": "open"}')[0] == 400
    assert clean.req("POST", "/_fake/faults", body="not json")[0] == 400


def test_faults_from_state_file(tmp_path):
    f = Fake({**STATE, "faults": [{"op": "default_org", "status": 503}]}, tmp_path)
    try:
        assert f.json("GET", "/api/user/organizations/default")[0] == 503
        assert f.json("GET", "/api/user/organizations/default")[0] == 200
    finally:
        f.stop()


# ---- HTTP behaviour and process lifecycle ----------------------------------------------------


def test_keep_alive_reuses_one_connection(clean):
    c = clean.conn()
    c.request("POST", ENV + "/open", headers=AUTH)
    r = c.getresponse()
    sid = json.loads(r.read())["id"]
    assert r.getheader("Connection") != "close"
    sock = c.sock
    c.request("GET", f"{ENV}/open/{sid}", headers=AUTH)
    r = c.getresponse()
    assert r.status == 200 and json.loads(r.read())["properties"]
    assert c.sock is sock, "the second request must reuse the connection"
    c.close()


def test_request_body_is_consumed_for_keep_alive(clean):
    c = clean.conn()
    etag = None
    c.request("GET", ENV, headers=AUTH)
    r = c.getresponse()
    r.read()
    etag = r.getheader("ETag")
    c.request("PATCH", ENV, body="values: {}\n" * 100, headers={**AUTH, "If-Match": '"x"'})
    r = c.getresponse()
    assert r.status == 409
    r.read()
    c.request("GET", ENV, headers=AUTH)
    r = c.getresponse()
    assert r.status == 200 and r.getheader("ETag") == etag
    r.read()
    c.close()


def test_exits_when_stdin_closes(tmp_path):
    f = Fake(STATE, tmp_path)
    f.proc.stdin.close()
    assert f.proc.wait(5) == 0
    assert f.proc.stdout.read() == b"", "nothing may follow READY on stdout"
    f.stop()


def test_exits_on_sigterm(tmp_path):
    f = Fake(STATE, tmp_path)
    f.json("GET", "/api/user/organizations/default")
    f.proc.send_signal(signal.SIGTERM)
    assert f.proc.wait(5) == 0
    f.stop()


def test_bad_state_and_non_loopback_host_are_refused(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"environments": {}}))
    r = subprocess.run([sys.executable, str(FAKE), "--state", str(p)], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=10)
    assert r.returncode != 0 and b"token" in r.stderr and r.stdout == b""
    p.write_text(json.dumps(STATE))
    r = subprocess.run([sys.executable, str(FAKE), "--state", str(p), "--host", "0.0.0.0"],
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=10)
    assert r.returncode != 0 and r.stdout == b""


def test_verbose_log_never_shows_the_token(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps(STATE))
    proc = subprocess.Popen([sys.executable, str(FAKE), "--state", str(p), "--verbose"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    port = int(proc.stdout.readline().decode().rsplit(":", 1)[1])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("POST", ENV + "/open", headers=AUTH)
    c.getresponse().read()
    c.close()
    proc.stdin.close()
    proc.wait(5)
    err = proc.stderr.read().decode()
    assert "/open" in err and TOKEN not in err
    proc.stdout.close()
    proc.stderr.close()


# ---- the official SDKs read the fake ---------------------------------------------------------

EXPECTED_JSON = {  # what `escort load --format json` prints: Z (null) skipped, no files
    "A": "x",
    "N": "3",
    "B": "true",
    "S": "shh",
    "OBJ": '{"k":"v","arr":[1,"two"]}',
    "SO": '{"a":"b","l":[1,{"m":"n"}]}',
}


def test_python_sdk_reads_the_fake(clean):
    import pulumi_esc_sdk as esc
    client = esc.EscClient(esc.Configuration(host=clean.url, access_token=TOKEN))
    env, values, _ = client.open_and_read_environment("acme", "proj", "dev")
    assert values["environmentVariables"]["OBJ"] == {"k": "v", "arr": [1, "two"]}
    assert env.properties["environmentVariables"].value["S"]["secret"] is True
    assert values["files"]["KUBECONFIG"] == "apiVersion: v1\n"
    _, values, _ = client.open_and_read_environment_at_version("acme", "proj", "dev", "stable")
    assert values["environmentVariables"] == {"OLD": "1"}
    assert {e["headers"]["authorization"] for e in clean.log()} == {"present"}


def test_python_sdk_rejects_a_value_without_trace(clean):
    import pulumi_esc_sdk as esc
    client = esc.EscClient(esc.Configuration(host=clean.url, access_token=TOKEN))
    with pytest.raises(Exception, match="trace"):
        client.open_and_read_environment("acme", "proj", "raw")


def _peer(cmd, *args):
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60)


def test_python_peer_script(clean):
    import pulumi_esc_sdk  # noqa: F401 (the script below needs it)
    script = [sys.executable, str(ROOT / "tests/peers/esc_sdk_read.py")]
    r = _peer(script, clean.url, TOKEN, "acme/proj/dev")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == EXPECTED_JSON
    r = _peer(script, "--count-only", clean.url, TOKEN, "acme/proj/dev@1")
    assert r.returncode == 0 and r.stdout.strip() == "1"
    r = _peer(script, clean.url, "nope", "acme/proj/dev")
    assert r.returncode == 1 and "401" in r.stderr and "nope" not in r.stdout


def test_node_peer_script(clean):
    sdk = ROOT / "tests/peers/node_modules/@pulumi/esc-sdk"
    node = shutil.which("node")
    assert sdk.is_dir() and node, "node SDK not installed (scripts/setup-peers.sh)"
    script = [node, str(ROOT / "tests/peers/esc_sdk_read.mjs")]
    r = _peer(script, clean.url, TOKEN, "acme/proj/dev")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == EXPECTED_JSON
    log = clean.log()
    assert [(e["method"], e["path"]) for e in log] == [
        ("POST", ENV + "/open"),
        ("GET", f"{ENV}/open/{log[1]['path'].rsplit('/', 1)[1]}"),
    ]
    assert {e["headers"]["authorization"] for e in log} == {"present"}
    r = _peer(script, "--count-only", clean.url, TOKEN, "acme/proj/dev@stable")
    assert r.returncode == 0 and r.stdout.strip() == "1"
    r = _peer(script, clean.url, "nope", "acme/proj/dev")
    assert r.returncode == 1 and "401" in r.stderr
