"""Self-tests of the fake Fly.io Machines API (tests/fakes/fly_server.py): staged secrets, their
`version`, machines that see secrets only once updated (`min_secrets_version`), and releases.

Run with the peers venv: target/peers/venv/bin/python -m pytest -q tests/fakes
"""
import re
import time
from pathlib import Path

import pytest

import test_github_server

FAKE = Path(__file__).resolve().parent / "fly_server.py"
AUTH = {"Authorization": "Bearer fly-test"}
OLD = "2024-01-01T00:00:00Z"

STATE = {
    "token": "fly-test",
    "apps": {
        "app": {
            "secrets": {"A": {"value": "a1"}, "NODATE": {"value": "x", "updated_at": None},
                        "NOZONE": {"value": "y", "updated_at": "2024-01-02T03:04:05"}},
            "secrets_version": 7,
            "releases": [{"version": 3, "created_at": "2024-01-01T00:00:00Z"}],
            "machines": [{"id": "m1", "release_version": 3}, {"id": "m2", "release_version": 3}],
        },
        "empty": {},
    },
}


class Fake(test_github_server.Fake):
    def call(self, method, path, body=None, headers=AUTH):
        return super().call(method, path, body, headers)


@pytest.fixture
def fake(tmp_path):
    f = Fake(tmp_path, STATE, FAKE)
    yield f
    f.stop()


def machine_secrets(f):
    status, body = f.call("GET", "/_fake/machines/app", headers={})
    assert status == 200
    return {m["id"]: (m["secrets_version"], m["secrets"]) for m in body}


def test_a_write_returns_the_next_secrets_version_and_is_staged(fake):
    status, body = fake.call("POST", "/v1/apps/app/secrets", {"values": {"A": "a2", "B": "b"}})
    assert status == 200 and body["version"] == 8
    status, body = fake.call("POST", "/v1/apps/app/secrets", {"values": {"B": None}})
    assert body["version"] == 9
    assert fake.call("POST", "/v1/apps/empty/secrets", {"values": {"X": "1"}})[1]["version"] == 2, "per app"
    listed = {s["name"]: s for s in fake.call("GET", "/v1/apps/app/secrets")[1]["secrets"]}
    assert listed["A"]["updated_at"] > OLD and "B" not in listed
    # no machine sees the change before it is deployed
    assert machine_secrets(fake) == {m: (7, {"A": "a1", "NODATE": "x", "NOZONE": "y"}) for m in ("m1", "m2")}


def test_dates_are_served_as_the_state_gives_them(fake):
    listed = {s["name"]: s for s in fake.call("GET", "/v1/apps/app/secrets")[1]["secrets"]}
    assert "updated_at" not in listed["NODATE"] and "created_at" not in listed["NODATE"]
    assert listed["NOZONE"]["updated_at"] == "2024-01-02T03:04:05"
    assert listed["A"]["updated_at"] == OLD


def test_list_at_a_version(fake):
    assert fake.call("GET", "/v1/apps/app/secrets?version=7")[0] == 200
    assert fake.call("GET", "/v1/apps/app/secrets?version=8")[0] == 404


def test_machines_see_secrets_after_an_update_with_min_secrets_version(fake):
    status, machines = fake.call("GET", "/v1/apps/app/machines")
    assert status == 200 and [m["id"] for m in machines] == ["m1", "m2"]
    m1 = machines[0]
    assert m1["config"]["metadata"]["fly_release_version"] == "3" and m1["state"] == "started"
    assert not any(k.startswith("_") for k in m1)
    version = fake.call("POST", "/v1/apps/app/secrets", {"values": {"A": "a2"}})[1]["version"]
    status, err = fake.call("POST", "/v1/apps/app/machines/m1", {"config": m1["config"], "min_secrets_version": version + 1})
    assert status == 422 and "not found" in err["error"]
    assert machine_secrets(fake)["m1"][0] == 7, "a refused update changes nothing"
    time.sleep(1.1)  # dates have one-second resolution
    status, updated = fake.call("POST", "/v1/apps/app/machines/m1", {"config": m1["config"], "min_secrets_version": version})
    assert status == 200
    assert updated["instance_id"] != m1["instance_id"] and updated["updated_at"] > m1["updated_at"]
    seen = machine_secrets(fake)
    assert seen["m1"] == (8, {"A": "a2", "NODATE": "x", "NOZONE": "y"})
    assert seen["m2"][1]["A"] == "a1", "a machine not updated still runs the old value"
    assert fake.call("GET", "/v1/apps/app/machines/m1")[1]["instance_id"] == updated["instance_id"]


def test_skip_secrets_keeps_the_old_secrets(fake):
    fake.call("POST", "/v1/apps/app/secrets", {"values": {"A": "a2"}})
    config = fake.call("GET", "/v1/apps/app/machines/m2")[1]["config"]
    assert fake.call("POST", "/v1/apps/app/machines/m2", {"config": config, "skip_secrets": True})[0] == 200
    assert machine_secrets(fake)["m2"][1]["A"] == "a1"


def test_a_new_release_version_creates_a_release(fake):
    releases = fake.call("GET", "/api/v1/apps/app/releases?limit=10")[1]["releases"]
    assert [(r["version"], r["created_at"]) for r in releases] == [(3, OLD)]
    config = fake.call("GET", "/v1/apps/app/machines/m1")[1]["config"]
    config["metadata"]["fly_release_version"] = "4"
    assert fake.call("POST", "/v1/apps/app/machines/m1", {"config": config})[0] == 200
    releases = fake.call("GET", "/api/v1/apps/app/releases")[1]["releases"]
    assert [r["version"] for r in releases] == [4, 3] and releases[0]["created_at"] > OLD


@pytest.mark.parametrize("body,status", [
    ({}, 400),
    ({"config": {}, "bogus": 1}, 400),
    ({"config": {}, "min_secrets_version": "7"}, 400),
    ({"config": {}, "min_secrets_version": -1}, 400),
])
def test_bad_machine_updates_are_refused(fake, body, status):
    assert fake.call("POST", "/v1/apps/app/machines/m1", body)[0] == status


def test_unknown_apps_and_machines_and_auth(fake):
    assert fake.call("GET", "/v1/apps/nope/machines")[0] == 404
    assert fake.call("GET", "/v1/apps/app/machines/zz")[0] == 404
    assert fake.call("GET", "/v1/apps/app/machines", headers={})[0] == 401
    assert fake.call("GET", "/api/v1/apps/app/releases", headers={"Authorization": "Bearer wrong"})[0] == 401


def test_dates_have_fractions_and_digests_follow_the_value(fake):
    fake.call("POST", "/v1/apps/app/secrets", {"values": {"A": "a2"}})
    listed = {s["name"]: s for s in fake.call("GET", "/v1/apps/app/secrets")[1]["secrets"]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", listed["A"]["updated_at"])
    assert re.fullmatch(r"[0-9a-f]{16}", listed["A"]["digest"])
    before = listed["A"]["digest"]
    status, _ = fake.call("POST", "/_fake/secrets/app", {"A": {"value": "a3", "updated_at": OLD}}, headers={})
    assert status == 200
    after = {s["name"]: s for s in fake.call("GET", "/v1/apps/app/secrets")[1]["secrets"]}["A"]
    assert after["digest"] != before and after["updated_at"] == OLD, "someone else's write, dated as asked"
    fake.call("POST", "/v1/apps/app/secrets", {"values": {"A": "a2"}})
    assert {s["name"]: s for s in fake.call("GET", "/v1/apps/app/secrets")[1]["secrets"]}["A"]["digest"] == before


def lease(f, mid, headers=None):
    return f.call("POST", f"/v1/apps/app/machines/{mid}/lease?ttl=60", {}, headers=dict(AUTH, **(headers or {})))


def test_a_lease_guards_updates_until_released(fake):
    config = fake.call("GET", "/v1/apps/app/machines/m1")[1]["config"]
    status, held = lease(fake, "m1")
    assert status == 200 and held["status"] == "success" and held["data"]["nonce"]
    nonce = {"fly-machine-lease-nonce": held["data"]["nonce"]}
    assert lease(fake, "m1")[0] == 409, "held: another acquire is refused"
    assert lease(fake, "m1", nonce)[1]["data"]["nonce"] == nonce["fly-machine-lease-nonce"], "the holder refreshes"
    assert fake.call("POST", "/v1/apps/app/machines/m1", {"config": config})[0] == 409, "no nonce"
    wrong = dict(AUTH, **{"fly-machine-lease-nonce": "0000"})
    assert fake.call("POST", "/v1/apps/app/machines/m1", {"config": config}, headers=wrong)[0] == 409
    assert fake.call("POST", "/v1/apps/app/machines/m1", {"config": config}, headers=dict(AUTH, **nonce))[0] == 200
    assert fake.call("DELETE", "/v1/apps/app/machines/m1/lease", headers=wrong)[0] == 409
    assert fake.call("DELETE", "/v1/apps/app/machines/m1/lease", headers=dict(AUTH, **nonce))[0] == 200
    assert fake.call("GET", "/v1/apps/app/machines/m1/lease")[0] == 404
    assert fake.call("POST", "/v1/apps/app/machines/m1", {"config": config})[0] == 200, "released: free to update"
    assert fake.call("POST", "/v1/apps/app/machines/m1", {"config": config}, headers=dict(AUTH, **nonce))[0] == 409


def test_a_lease_in_the_state_is_someone_elses(tmp_path):
    state = {"token": "fly-test", "apps": {"app": {"machines": [
        {"id": "m1", "lease": {"owner": "deployer@example.com"}}, {"id": "m2", "starts": False}]}}}
    f = Fake(tmp_path, state, FAKE)
    try:
        status, err = lease(f, "m1")
        assert status == 409 and "deployer@example.com" in err["error"]
        config = f.call("GET", "/v1/apps/app/machines/m1")[1]["config"]
        assert f.call("POST", "/v1/apps/app/machines/m1", {"config": config})[0] == 409
        # m2 does not start: a wait for `started` times out
        updated = f.call("POST", "/v1/apps/app/machines/m2", {"config": config})[1]
        wait = f"/v1/apps/app/machines/m2/wait?instance_id={updated['instance_id']}&state=started&timeout=5"
        assert f.call("GET", wait)[0] == 408
        assert f.call("GET", wait.replace("state=started", "state=created"))[0] == 400
    finally:
        f.stop()


def test_wait_for_the_instance_an_update_made(fake):
    before = fake.call("GET", "/v1/apps/app/machines/m1")[1]
    updated = fake.call("POST", "/v1/apps/app/machines/m1", {"config": before["config"]})[1]
    wait = "/v1/apps/app/machines/m1/wait?instance_id={}&state={}&timeout={}"
    assert fake.call("GET", wait.format(updated["instance_id"], "started", 60)) == (200, {"ok": True})
    assert fake.call("GET", wait.format(updated["instance_id"], "stopped", 1))[0] == 408
    assert fake.call("GET", wait.format(before["instance_id"], "started", 1))[0] == 400, "an old instance"
    assert fake.call("GET", wait.format(updated["instance_id"], "started", 61))[0] == 400
    logged = [r for r in fake.call("GET", "/_fake/requests", headers={})[1] if r["method"] == "POST"]
    assert logged[-1]["body"] == {"config": "<set>"}
