"""Self-tests of the fake GitHub server's Actions variables (tests/fakes/github_server.py), against
what specs/github-variables.openapi.json describes.

Run with the peers venv (PyNaCl): target/peers/venv/bin/pytest tests/fakes
"""
import http.client
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FAKE = HERE / "github_server.py"
TOKEN = "ghp-test"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REPO = "/repos/acme/app/actions/variables"
ENV = "/repos/acme/app/environments/prod/variables"
ORG = "/orgs/acme/actions/variables"

STATE = {
    "token": TOKEN,
    "orgs": ["acme"],
    "repos": {"acme/app": {"id": 101, "environments": ["prod"]}},
    "variables": {
        "repos/acme/app/actions": {f"V_{i:02}": {"value": f"v{i}"} for i in range(35)},
        "orgs/acme/actions": {"REGION": {"value": "eu", "visibility": "selected",
                                         "selected_repository_ids": [101]}},
    },
}


class Fake:
    """A fake server on `state` (default: STATE), as a subprocess; `script` is another fake's."""

    def __init__(self, tmp, state=None, script=FAKE):
        path = Path(tmp) / "state.json"
        path.write_text(json.dumps(STATE if state is None else state))
        self.proc = subprocess.Popen([sys.executable, str(script), "--state", str(path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        m = re.fullmatch(r"READY http://127\.0\.0\.1:(\d+)\n", line)
        assert m, f"bad READY line {line!r}"
        self.port = int(m.group(1))

    def call(self, method, path, body=None, headers=AUTH):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = json.dumps(body) if body is not None else None
        c.request(method, path, body=data, headers=dict(headers, **({"Content-Type": "application/json"} if data else {})))
        r = c.getresponse()
        raw = r.read()
        c.close()
        return r.status, (json.loads(raw) if raw else None)

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(5)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    f = Fake(tmp_path_factory.mktemp("fake"))
    yield f
    f.stop()


def test_list_pages_at_most_30_with_total_count_and_values(fake):
    status, page1 = fake.call("GET", REPO + "?per_page=100&page=1")
    assert status == 200 and page1["total_count"] == 35 and len(page1["variables"]) == 30
    status, page2 = fake.call("GET", REPO + "?per_page=100&page=2")
    assert len(page2["variables"]) == 5
    first = page1["variables"][0]
    assert set(first) == {"name", "value", "created_at", "updated_at"} and first["value"] == "v0"


def test_create_get_update_delete(fake):
    assert fake.call("POST", ENV, {"name": "log_level", "value": "info"}) == (201, {})
    assert fake.call("POST", ENV, {"name": "LOG_LEVEL", "value": "x"})[0] == 409
    status, got = fake.call("GET", ENV + "/log_level")
    assert status == 200 and (got["name"], got["value"]) == ("LOG_LEVEL", "info")
    assert fake.call("PATCH", ENV + "/LOG_LEVEL", {"value": "debug"}) == (204, None)
    assert fake.call("GET", ENV + "/LOG_LEVEL")[1]["value"] == "debug"
    assert fake.call("PATCH", ENV + "/LOG_LEVEL", {"name": "LEVEL"})[0] == 204
    assert fake.call("GET", ENV + "/LOG_LEVEL")[0] == 404
    assert fake.call("DELETE", ENV + "/LEVEL") == (204, None)
    assert fake.call("DELETE", ENV + "/LEVEL")[0] == 404
    assert fake.call("PATCH", ENV + "/NOPE", {"value": "x"})[0] == 404


def test_refusals(fake):
    assert fake.call("POST", REPO, {"name": "GITHUB_X", "value": "x"})[0] == 422
    assert fake.call("POST", REPO, {"name": "9X", "value": "x"})[0] == 422
    assert fake.call("POST", REPO, {"name": "X"})[0] == 422
    assert fake.call("POST", REPO, {"name": "X", "value": "x", "visibility": "all"})[0] == 422
    assert fake.call("POST", REPO, {"name": "X", "value": "v" * (48 * 1024 + 1)})[0] == 422
    assert fake.call("POST", "/repos/acme/app/codespaces/variables", {"name": "X", "value": "x"})[0] == 404
    assert fake.call("GET", "/repos/acme/app/environments/nope/variables")[0] == 404
    assert fake.call("GET", REPO, headers={})[0] == 401


def test_organization_visibility_and_selected_repositories(fake):
    assert fake.call("POST", ORG, {"name": "A", "value": "x"})[0] == 422, "visibility is required"
    assert fake.call("POST", ORG, {"name": "A", "value": "x", "visibility": "all",
                                   "selected_repository_ids": [101]})[0] == 422
    assert fake.call("POST", ORG, {"name": "A", "value": "x", "visibility": "private"})[0] == 201
    status, listed = fake.call("GET", ORG)
    region = next(v for v in listed["variables"] if v["name"] == "REGION")
    assert region["visibility"] == "selected" and region["selected_repositories_url"].endswith("/REGION/repositories")
    status, repos = fake.call("GET", ORG + "/REGION/repositories")
    assert status == 200 and repos["total_count"] == 1 and repos["repositories"][0]["id"] == 101


def test_an_edit_outside_escort_is_dated_now(fake):
    before = fake.call("GET", REPO + "/V_01")[1]
    assert fake.call("PUT", "/_fake/variables", {"scope": "repos/acme/app/actions", "name": "V_01", "value": "edited"},
                     headers={})[0] == 204
    after = fake.call("GET", REPO + "/V_01")[1]
    assert after["value"] == "edited" and after["updated_at"] > before["updated_at"]
    assert after["created_at"] == before["created_at"]
    stored = fake.call("GET", "/_fake/variables", headers={})[1]
    assert stored["repos/acme/app/actions"]["V_01"]["value"] == "edited"


def test_a_fixed_clock_and_arrival_times(tmp_path):
    f = Fake(tmp_path, dict(STATE, clock="2026-11-29T00:00:00Z"))
    try:
        assert f.call("POST", REPO, {"name": "NEW", "value": "x"})[0] == 201
        got = f.call("GET", REPO + "/NEW")[1]
        assert (got["created_at"], got["updated_at"]) == ("2026-11-29T00:00:00Z", "2026-11-29T00:00:00Z")
        log = f.call("GET", "/_fake/requests", headers={})[1]
        assert len(log) == 2 and log[0]["at"] <= log[1]["at"]
    finally:
        f.stop()


def _in_threads(f, calls):
    threads = [threading.Thread(target=f.call, args=c) for c in calls]
    for t in threads:
        t.start()
    return threads


def test_writes_are_held_until_enough_are_in_flight(tmp_path):
    f = Fake(tmp_path, dict(STATE, hold_until_in_flight=3))
    try:
        assert f.call("GET", REPO + "/V_01")[0] == 200, "reads are not held"
        first = _in_threads(f, [("POST", REPO, {"name": f"H{i}", "value": "x"}) for i in range(2)])
        for t in first:
            t.join(0.5)
        assert all(t.is_alive() for t in first), "two writes in flight of three: both held"
        last = _in_threads(f, [("POST", REPO, {"name": "H2", "value": "x"})])
        for t in first + last:
            t.join(10)
            assert not t.is_alive()
        assert f.call("GET", "/_fake/stats", headers={})[1]["max_in_flight"] == 3
    finally:
        f.stop()


def test_a_barrier_holds_requests_until_all_arrived(tmp_path):
    f = Fake(tmp_path)
    try:
        assert f.call("POST", "/_fake/faults", [{"method": "DELETE", "barrier": 2, "times": -1}], headers={})[0] == 200
        assert "_barrier" not in f.call("GET", "/_fake/faults", headers={})[1][0]
        first = _in_threads(f, [("DELETE", REPO + "/V_02")])
        first[0].join(0.5)
        assert first[0].is_alive(), "one of two: held"
        second = _in_threads(f, [("DELETE", REPO + "/V_03")])
        for t in first + second:
            t.join(10)
            assert not t.is_alive()
    finally:
        f.stop()
