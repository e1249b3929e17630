"""Self-tests of the fake GitHub server's count limits and dates (tests/fakes/github_server.py).

Run with the peers venv (PyNaCl): target/peers/venv/bin/python -m pytest -q tests/fakes
"""
import base64
import json
import time

import pytest
from nacl.public import PrivateKey, SealedBox

import test_github_server

KEY = PrivateKey.generate()


class Fake(test_github_server.Fake):
    def put_secret(self, scope_path, name, value, **extra):
        sealed = SealedBox(KEY.public_key).encrypt(value.encode())
        body = {"encrypted_value": base64.b64encode(sealed).decode(), "key_id": "1", **extra}
        return self.call("PUT", f"{scope_path}/{name}", body)


def many(n, prefix="K"):
    return {f"{prefix}{i:04}": {"value": "v"} for i in range(n)}


def state(secrets=None, variables=None):
    return {
        "token": test_github_server.TOKEN,
        "private_key": base64.b64encode(bytes(KEY)).decode(),
        "key_id": "1",
        "orgs": ["acme"],
        "repos": {"acme/app": {"id": 101, "environments": ["prod"]}},
        "secrets": secrets or {},
        "variables": variables or {},
    }


@pytest.fixture
def fake_with(tmp_path):
    fakes = []

    def start(**kw):
        d = tmp_path / f"fake{len(fakes)}"
        d.mkdir()
        f = Fake(d, state(**kw))
        fakes.append(f)
        return f

    yield start
    for f in fakes:
        f.stop()


@pytest.mark.parametrize("scope,path,limit", [
    ("repos/acme/app/actions", "/repos/acme/app/actions/secrets", 100),
    ("repos/acme/app/environments/prod", "/repos/acme/app/environments/prod/secrets", 100),
    ("orgs/acme/actions", "/orgs/acme/actions/secrets", 1000),
    ("repos/acme/app/dependabot", "/repos/acme/app/dependabot/secrets", 100),
])
def test_secret_count_limits(fake_with, scope, path, limit):
    f = fake_with(secrets={scope: many(limit)})
    extra = {"visibility": "all"} if scope.startswith("orgs/") else {}
    status, body = f.put_secret(path, "ONE_MORE", "x", **extra)
    assert status == 422 and str(limit) in body["message"], body
    assert "ONE_MORE" not in f.call("GET", "/_fake/secrets", headers={})[1][scope], "nothing is written"
    assert f.put_secret(path, "K0000", "updated", **extra)[0] == 204, "an update is not a new secret"
    assert f.call("DELETE", f"{path}/K0001")[0] == 204
    assert f.put_secret(path, "ONE_MORE", "x", **extra)[0] == 201, "below the limit again"


def test_a_scope_one_below_the_limit_takes_one_more(fake_with):
    f = fake_with(secrets={"repos/acme/app/actions": many(99)})
    assert f.put_secret("/repos/acme/app/actions/secrets", "LAST", "x")[0] == 201
    assert f.put_secret("/repos/acme/app/actions/secrets", "TOO_MANY", "x")[0] == 422


@pytest.mark.parametrize("scope,path,limit", [
    ("repos/acme/app/actions", "/repos/acme/app/actions/variables", 500),
    ("repos/acme/app/environments/prod", "/repos/acme/app/environments/prod/variables", 100),
    ("orgs/acme/actions", "/orgs/acme/actions/variables", 1000),
])
def test_variable_count_limits(fake_with, scope, path, limit):
    f = fake_with(variables={scope: many(limit)})
    extra = {"visibility": "all"} if scope.startswith("orgs/") else {}
    status, body = f.call("POST", path, {"name": "ONE_MORE", "value": "x", **extra})
    assert status == 422 and str(limit) in body["message"], body
    assert "ONE_MORE" not in f.call("GET", "/_fake/variables", headers={})[1][scope]
    assert f.call("PATCH", f"{path}/K0000", {"value": "y"})[0] == 204, "an update is not a new variable"
    assert f.call("PATCH", f"{path}/K0000", {"name": "RENAMED"})[0] == 204, "a rename is not a new variable"


def test_every_write_sets_updated_at(fake_with):
    old = "2024-01-01T00:00:00Z"
    f = fake_with(secrets={"repos/acme/app/actions": {"S": {"value": "a", "updated_at": old}}},
                  variables={"repos/acme/app/actions": {"V": {"value": "a", "updated_at": old}}})
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    # the same value again is still a write
    assert f.put_secret("/repos/acme/app/actions/secrets", "S", "a")[0] == 204
    assert f.call("PATCH", "/repos/acme/app/actions/variables/V", {"value": "a"})[0] == 204
    s = f.call("GET", "/repos/acme/app/actions/secrets/S")[1]
    v = f.call("GET", "/repos/acme/app/actions/variables/V")[1]
    for item in (s, v):
        assert item["updated_at"] >= before > old, item
        assert item["created_at"] == old


def test_a_write_outside_escort(fake_with):
    f = fake_with(secrets={"repos/acme/app/actions": {"S": {"value": "a", "updated_at": "2024-01-01T00:00:00Z"}}})
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    body = {"scope": "repos/acme/app/actions", "name": "s", "value": "theirs"}
    assert f.call("PUT", "/_fake/secrets", body, headers={})[0] == 204
    stored = f.call("GET", "/_fake/secrets", headers={})[1]["repos/acme/app/actions"]["S"]
    assert stored["value"] == "theirs" and stored["updated_at"] >= before
    assert stored["created_at"] == "2024-01-01T00:00:00Z"
    full = fake_with(secrets={"repos/acme/app/actions": many(100)})
    assert full.call("PUT", "/_fake/secrets", dict(body, name="NEW"), headers={})[0] == 422
