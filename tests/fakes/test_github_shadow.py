"""Self-tests of what the fake GitHub server serves to tell shadowed organization secrets
(tests/fakes/github_server.py): a repository's environments and the organization secrets it
may read, paged as GitHub pages them.

Run with the peers venv (PyNaCl): target/peers/venv/bin/python -m pytest -q tests/fakes
"""
import pytest

from test_github_server import TOKEN, Fake

ENVS = [f"env-{i:03}" for i in range(105)]
STATE = {
    "token": TOKEN,
    "orgs": ["acme"],
    "repos": {
        "acme/app": {"id": 101, "environments": ENVS},
        "acme/web": {"id": 102},
        "acme/site": {"id": 103, "private": False},
    },
    "secrets": {"orgs/acme/actions": {
        "ALL": {"value": "x", "visibility": "all"},
        "PRIV": {"value": "x", "visibility": "private"},
        "SEL_APP": {"value": "x", "visibility": "selected", "selected_repository_ids": [101]},
        "SEL_NONE": {"value": "x", "visibility": "selected", "selected_repository_ids": []},
        **{f"K{i:03}": {"value": "x", "visibility": "all"} for i in range(120)},
    }},
}


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    f = Fake(tmp_path_factory.mktemp("fake"), STATE)
    yield f
    f.stop()


def all_pages(fake, path, key, per_page):
    names, page, total = [], 1, None
    while True:
        status, body = fake.call("GET", f"{path}?per_page={per_page}&page={page}")
        assert status == 200, body
        assert len(body[key]) <= min(per_page, 100)
        total = body["total_count"]
        names += [item["name"] for item in body[key]]
        if not body[key] or len(names) >= total:
            return names, total, page
        page += 1


def test_environments_are_listed_at_most_100_a_page_with_their_fields(fake):
    status, body = fake.call("GET", "/repos/acme/app/environments")
    assert status == 200 and body["total_count"] == 105 and len(body["environments"]) == 30, "30 by default"
    env = body["environments"][0]
    assert {"id", "node_id", "name", "url", "html_url", "created_at", "updated_at"} <= set(env), env
    names, total, pages = all_pages(fake, "/repos/acme/app/environments", "environments", 500)
    assert (names, total, pages) == (ENVS, 105, 2), "per_page is capped at 100"
    assert fake.call("GET", "/repos/acme/web/environments")[1] == {"total_count": 0, "environments": []}
    assert fake.call("GET", "/repos/acme/nope/environments")[0] == 404
    assert fake.call("GET", "/repos/acme/app/environments", headers={})[0] == 401


def test_a_repository_is_granted_the_organization_secrets_their_visibility_lets_it_read(fake):
    many = [f"K{i:03}" for i in range(120)]
    app, total, _ = all_pages(fake, "/repos/acme/app/actions/organization-secrets", "secrets", 100)
    assert (app, total) == (sorted(["ALL", "PRIV", "SEL_APP"] + many), 123), "by name"
    web, _, _ = all_pages(fake, "/repos/acme/web/actions/organization-secrets", "secrets", 100)
    assert web == sorted(["ALL", "PRIV"] + many), "not selected for it"
    site, _, _ = all_pages(fake, "/repos/acme/site/actions/organization-secrets", "secrets", 100)
    assert site == sorted(["ALL"] + many), "private secrets are for private repositories"
    status, body = fake.call("GET", "/repos/acme/app/actions/organization-secrets?per_page=2")
    assert set(body["secrets"][0]) == {"name", "created_at", "updated_at"}, "never a value"
    assert fake.call("GET", "/repos/acme/nope/actions/organization-secrets")[0] == 404


def test_the_listings_follow_writes(tmp_path):
    f = Fake(tmp_path, {**STATE, "repos": {"acme/web": {"id": 102}}, "secrets": {}})
    try:
        assert f.call("GET", "/repos/acme/web/actions/organization-secrets")[1]["total_count"] == 0
        status, _ = f.call("PUT", "/_fake/secrets", {"scope": "orgs/acme/actions", "name": "new", "value": "v"},
                           headers={})
        assert status == 204
        assert [s["name"] for s in f.call("GET", "/repos/acme/web/actions/organization-secrets")[1]["secrets"]] \
            == ["NEW"]
    finally:
        f.stop()

