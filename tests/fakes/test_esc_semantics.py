"""Self-tests of the fake ESC service's semantics (esc_eval.py, esc_model.py): evaluation of
imports, `${...}`, providers and rotators at open time; fresh ciphertexts on every save and
the decrypt routes; retracted revisions; tags that move.

Run with the peers venv: target/peers/venv/bin/python -m pytest -q tests/fakes
"""
import json
import re

import pytest

from test_esc_server import AUTH, Fake, plain, walk

BASE = "/api/esc/environments/acme"


def env_path(name):
    return f"{BASE}/{name}"


def state(envs, **extra):
    return {"token": "tok-123", "environments": {f"acme/{k}": v for k, v in envs.items()}, **extra}


@pytest.fixture
def make(tmp_path):
    fakes = []

    def start(envs, **extra):
        d = tmp_path / f"fake{len(fakes)}"
        d.mkdir()
        f = Fake(state(envs, **extra), d)
        fakes.append(f)
        return f

    yield start
    for f in fakes:
        f.stop()


def open_props(f, name, version=None):
    path = env_path(name) + (f"/versions/{version}/open" if version else "/open")
    status, _, body = f.json("POST", path)
    assert status == 200, body
    status, _, body = f.json("GET", f"{env_path(name)}/open/{body['id']}")
    assert status == 200, body
    return body["properties"]


def open_refused(f, name, version=None):
    path = env_path(name) + (f"/versions/{version}/open" if version else "/open")
    status, _, body = f.json("POST", path)
    assert status == 400, body
    return " ".join(d["summary"] for d in body["diagnostics"])


def patch(f, name, text):
    etag = f.req("GET", env_path(name), AUTH)[1]["etag"]
    return f.json("PATCH", env_path(name), {**AUTH, "If-Match": etag}, body=text)


def revisions(f, name):
    status, _, body = f.json("GET", env_path(name) + "/versions")
    assert status == 200
    return body


# ---- interpolation ---------------------------------------------------------------------------


def test_interpolation_whole_values_inside_strings_dollar_dollar_and_transitive(make):
    f = make({"p/e": {"values": {
        "database": {"password": {"fn::secret": "pw"}, "host": "db", "port": 5432},
        "url": "postgres://${database.host}:${database.port}/x",
        "copy": "${database}",
        "chain": "${alias}",
        "alias": "${url}",
        "list": ["a", {"k": "${database.host}"}],
        "indexed": "${list[1].k}-${database[\"host\"]}",
        "money": "$$5 and $${not.a.ref}",
        "texts": "${flags} ${n} ${none} ${list} ${obj}",
        "flags": True, "n": 1.5, "none": None, "obj": {"b": 2, "a": "x"},
        "environmentVariables": {"DB_PASSWORD": "${database.password}", "DSN": "u:${database.password}@h"},
    }}})
    p = open_props(f, "p/e")
    assert plain(p["url"]) == "postgres://db:5432/x"
    assert plain(p["copy"]) == {"password": "pw", "host": "db", "port": 5432}
    assert plain(p["chain"]) == "postgres://db:5432/x"
    assert plain(p["indexed"]) == "db-db"
    assert plain(p["money"]) == "$5 and ${not.a.ref}"
    assert plain(p["texts"]) == 'true 1.5  "a","\\"k\\"=\\"db\\"" "a"="x","b"="2"', "as the service writes them"
    ev = p["environmentVariables"]["value"]
    assert plain(ev["DB_PASSWORD"]) == "pw" and ev["DB_PASSWORD"]["secret"] is True
    assert plain(ev["DSN"]) == "u:pw@h" and ev["DSN"]["secret"] is True, "a string with a secret part is secret"
    assert p["copy"]["value"]["password"]["secret"] is True and "secret" not in p["copy"]["value"]["host"]
    assert "secret" not in p["url"]
    for k, v in p.items():
        for _, node in walk(v):
            assert "def" in node["trace"], k


def test_a_change_behind_a_reference_changes_the_opened_value(make):
    f = make({"p/e": {"values": {
        "database": {"password": {"fn::secret": "one"}},
        "environmentVariables": {"DB_PASSWORD": "${database.password}"},
    }}})
    assert plain(open_props(f, "p/e")["environmentVariables"]) == {"DB_PASSWORD": "one"}
    status, _, body = patch(f, "p/e", "values:\n  database:\n    password:\n      fn::secret: two\n"
                                      "  environmentVariables:\n    DB_PASSWORD: ${database.password}\n")
    assert status == 200, body
    assert plain(open_props(f, "p/e")["environmentVariables"]) == {"DB_PASSWORD": "two"}


@pytest.mark.parametrize("values,summary", [
    ({"a": "${b}", "b": "${a}"}, "cyclic reference"),
    ({"a": "x-${a}"}, "cyclic reference"),
    ({"a": "${nope.x}"}, "unknown property nope.x"),
    ({"a": "${b[3]}", "b": [1]}, "unknown property b[3]"),
    ({"a": "${b..c}"}, "invalid property path"),
    ({"a": {"fn::open::aws-secrets": {}}}, "unknown provider"),
])
def test_definitions_that_do_not_evaluate_are_refused_at_open_and_at_save(make, values, summary):
    f = make({"p/e": {"values": values}, "p/ok": {"values": {"x": 1}}})
    assert summary in open_refused(f, "p/e")
    status, _, body = patch(f, "p/ok", "values:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in values.items()))
    assert status == 400 and summary in body["diagnostics"][0]["summary"], body
    assert len(revisions(f, "p/ok")) == 1, "a refused save makes no revision"


# ---- imports ---------------------------------------------------------------------------------


def test_imports_merge_in_order_and_follow_the_imported_environment(make):
    f = make({
        "p/base": {"values": {"database": {"password": {"fn::secret": "b1"}, "user": "u"}, "only": "base"}},
        "p/mid": {"values": {"database": {"user": "mid"}, "region": "eu"}},
        "p/app": {"imports": ["p/base", "p/mid"], "values": {
            "region": "us", "database": {"host": "h"},
            "environmentVariables": {"DB_PASSWORD": "${database.password}", "U": "${database.user}",
                                     "H": "${database.host}"}}},
    })
    p = open_props(f, "p/app")
    assert plain(p["environmentVariables"]) == {"DB_PASSWORD": "b1", "U": "mid", "H": "h"}
    assert plain(p["database"]) == {"password": "b1", "user": "mid", "host": "h"}, "own objects merge over imported"
    assert plain(p["region"]) == "us" and plain(p["only"]) == "base"
    assert p["database"]["value"]["password"]["trace"]["def"]["environment"] == "p/base"
    status, _, body = patch(f, "p/base", "values:\n  database:\n    password:\n      fn::secret: b2\n")
    assert status == 200, body
    p = open_props(f, "p/app")
    assert plain(p["environmentVariables"])["DB_PASSWORD"] == "b2", "the importer reads the import's new revision"
    assert len(revisions(f, "p/app")) == 1, "with no revision of its own"


def test_an_import_pinned_to_a_tag_reads_the_tagged_revision_and_follows_the_tag(make):
    f = make({
        "p/base": {"history": [{"values": {"v": "one"}}], "values": {"v": "two"}, "tags": {"stable": 1}},
        "p/app": {"imports": ["p/base@stable"], "values": {"X": "${v}"}},
    })
    assert plain(open_props(f, "p/app")["X"]) == "one"
    assert f.req("PATCH", env_path("p/base") + "/versions/tags/stable", AUTH, json.dumps({"revision": 2}))[0] == 204
    assert plain(open_props(f, "p/app")["X"]) == "two"


def test_import_cycles_and_unknown_imports_are_refused(make):
    f = make({
        "p/a": {"imports": ["p/b"], "values": {"x": 1}},
        "p/b": {"imports": ["p/a"], "values": {"y": 1}},
        "p/c": {"imports": ["p/none"], "values": {}},
        "p/d": {"values": {}},
    })
    assert "cyclic import" in open_refused(f, "p/a")
    assert "unknown environment" in open_refused(f, "p/c")
    status, _, body = patch(f, "p/d", "imports:\n  - p/a\nvalues: {}\n")
    assert status == 400 and "cyclic import" in body["diagnostics"][0]["summary"]


# ---- providers and rotators ------------------------------------------------------------------


def test_a_provider_value_is_read_at_open_and_changes_with_no_revision(make):
    f = make({"p/e": {"values": {
        "db": {"fn::open::test": {"key": "db"}},
        "environmentVariables": {"DB_PASSWORD": "${db.password}"},
    }}}, providers={"db": {"password": "p1"}})
    p = open_props(f, "p/e")
    assert plain(p["environmentVariables"]) == {"DB_PASSWORD": "p1"}
    assert p["environmentVariables"]["value"]["DB_PASSWORD"]["secret"] is True
    status, _, _ = f.req("POST", "/_fake/providers", body=json.dumps({"db": {"password": "p2"}}))
    assert status == 200
    assert plain(open_props(f, "p/e")["environmentVariables"]) == {"DB_PASSWORD": "p2"}
    assert len(revisions(f, "p/e")) == 1
    assert "no value for key" in open_refused(make({"p/e": {"values": {"x": {"fn::open::test": {"key": "zz"}}}}}), "p/e")


def test_a_rotator_evaluates_to_its_state(make):
    f = make({"p/e": {"values": {
        "creds": {"fn::rotate::aws-iam": {"inputs": {"user": "u"},
                                         "state": {"current": {"fn::secret": "k2"}, "previous": "k1"}}},
        "environmentVariables": {"KEY": "${creds.current}"},
    }}})
    p = open_props(f, "p/e")
    assert plain(p["creds"]) == {"current": "k2", "previous": "k1"}
    assert plain(p["environmentVariables"]) == {"KEY": "k2"}
    assert p["environmentVariables"]["value"]["KEY"]["secret"] is True


def test_builtin_functions(make):
    f = make({"p/e": {"values": {
        "j": {"fn::join": [",", ["a", "${s}"]]},
        "s": {"fn::secret": "x"},
        "t": {"fn::toJSON": {"a": [1]}},
        "b": {"fn::toBase64": "hi"},
        "o": {"fn::final": "kept literal"},
    }}})
    p = open_props(f, "p/e")
    assert plain(p["j"]) == "a,x" and p["j"]["secret"] is True
    assert plain(p["t"]) == '{"a":[1]}' and plain(p["b"]) == "aGk="
    assert plain(p["o"]) == {"fn::final": "kept literal"}


# ---- ciphertexts and decrypt -----------------------------------------------------------------


def test_every_save_stores_fresh_ciphertext_and_decrypt_shows_the_plaintext(make):
    f = make({"p/e": {"values": {"x": 1}}})
    text = "values:\n  environmentVariables:\n    S:\n      fn::secret: \"sk-1\"\n    F: {fn::secret: flow}\n"
    assert patch(f, "p/e", text)[0] == 200
    first = f.req("GET", env_path("p/e"), AUTH)[2].decode()
    assert patch(f, "p/e", text)[0] == 200
    second = f.req("GET", env_path("p/e"), AUTH)[2].decode()
    for stored in (first, second):
        assert "sk-1" not in stored and "flow" not in stored and stored.count("ciphertext:") == 2
    assert first != second, "an unchanged plaintext is encrypted afresh on every save"
    # saving the stored text back keeps its ciphertexts
    assert patch(f, "p/e", second)[0] == 200
    assert f.req("GET", env_path("p/e"), AUTH)[2].decode() == second
    for version in ("2", "3", "latest"):
        status, hs, body = f.req("GET", env_path("p/e") + f"/versions/{version}/decrypt", AUTH)
        assert status == 200 and hs["content-type"] == "application/x-yaml"
        assert 'fn::secret: "sk-1"' in body.decode() and "ciphertext" not in body.decode()
    status, _, body = f.req("GET", env_path("p/e") + "/decrypt", AUTH)
    assert status == 200 and 'fn::secret: "sk-1"' in body.decode()
    assert plain(open_props(f, "p/e")["environmentVariables"]) == {"S": "sk-1", "F": "flow"}


def test_the_default_definition_stores_ciphertext_and_unknown_ciphertext_is_refused(make):
    f = make({"p/e": {"values": {"S": {"fn::secret": "canary-123"}}}})
    stored = f.req("GET", env_path("p/e"), AUTH)[2].decode()
    assert "canary-123" not in stored and "ciphertext:" in stored
    assert "canary-123" in f.req("GET", env_path("p/e") + "/decrypt", AUTH)[2].decode()
    status, _, body = patch(f, "p/e", "values:\n  S:\n    fn::secret:\n      ciphertext: bm90LW91cnM=\n")
    assert status == 400 and "cannot be decrypted" in body["diagnostics"][0]["summary"]


def test_ciphertexts_from_the_state_can_be_decrypted(make):
    f = make({"p/e": {"yaml": "values:\n  S:\n    fn::secret:\n      ciphertext: QUFB\n",
                      "values": {"S": {"fn::secret": "known"}}}}, ciphertexts={"QUFB": "known"})
    assert patch(f, "p/e", "values:\n  S:\n    fn::secret:\n      ciphertext: QUFB\n")[0] == 200
    assert plain(open_props(f, "p/e")["S"]) == "known"
    assert 'fn::secret: "known"' in f.req("GET", env_path("p/e") + "/decrypt", AUTH)[2].decode()


# ---- retracted revisions ---------------------------------------------------------------------


def test_retracted_revisions_are_listed_and_refused_and_their_tags_move(make):
    f = make({"p/e": {"history": [{"values": {"v": 1}}, {"values": {"v": 2}}], "values": {"v": 3},
                      "tags": {"stable": 2}},
              "p/pinned": {"imports": ["p/e@2"], "values": {}}})
    body = {"env": "acme/p/e", "revision": 2, "reason": "leaked"}
    assert f.req("POST", "/_fake/retract", body=json.dumps(body))[0] == 200
    revs = {r["number"]: r for r in revisions(f, "p/e")}
    assert revs[2]["retracted"]["replacement"] == 1 and revs[2]["retracted"]["reason"] == "leaked"
    assert "at" in revs[2]["retracted"]
    assert "retracted" not in revs[1] and "retracted" not in revs[3]
    for path in ("/versions/2", "/versions/2/decrypt"):
        status, _, err = f.json("GET", env_path("p/e") + path)
        assert status == 400 and "retracted" in err["message"]
    status, _, err = f.json("POST", env_path("p/e") + "/versions/2/open")
    assert status == 400 and "retracted" in err["message"]
    assert "retracted" in open_refused(f, "p/pinned")
    assert revs[1]["tags"] == ["stable"], "a tag on a retracted revision moves to its replacement"
    assert plain(open_props(f, "p/e", "stable")["v"]) == 1
    assert plain(open_props(f, "p/e")["v"]) == 3
    # the latest revision cannot be retracted
    assert f.req("POST", "/_fake/retract", body=json.dumps({"env": "acme/p/e", "revision": 3}))[0] == 400


def test_retracted_revisions_from_the_state(make):
    f = make({"p/e": {"history": [{"values": {"v": 1}, "retracted": {"replacement": 2, "at": "2024-01-01T00:00:00Z"}}],
                      "values": {"v": 2}}})
    assert revisions(f, "p/e")[1]["retracted"]["replacement"] == 2
    assert f.req("GET", env_path("p/e") + "/versions/1", AUTH)[0] == 400


# ---- tags ------------------------------------------------------------------------------------


def test_tags_are_created_moved_and_deleted(make):
    f = make({"p/e": {"history": [{"values": {"v": 1}}], "values": {"v": 2}}})
    tags = env_path("p/e") + "/versions/tags"
    assert f.req("POST", tags, AUTH, json.dumps({"name": "stable", "revision": 1}))[0] == 204
    assert f.req("POST", tags, AUTH, json.dumps({"name": "stable", "revision": 1}))[0] == 409
    assert f.req("POST", tags, AUTH, json.dumps({"name": "x"}))[0] == 400
    status, _, tag = f.json("GET", tags + "/stable")
    assert status == 200 and tag["revision"] == 1
    assert plain(open_props(f, "p/e", "stable")["v"]) == 1
    assert f.req("PATCH", tags + "/stable", AUTH, json.dumps({"revision": 2}))[0] == 204
    status, _, moved = f.json("GET", tags + "/stable")
    assert moved["revision"] == 2 and moved["modified"] >= tag["modified"]
    assert plain(open_props(f, "p/e", "stable")["v"]) == 2, "a moved tag is served at its new revision"
    assert [r["number"] for r in revisions(f, "p/e") if "stable" in r.get("tags", [])] == [2]
    assert len(revisions(f, "p/e")) == 2, "moving a tag makes no revision"
    assert f.json("GET", tags + "/latest")[2]["revision"] == 2
    assert f.req("PATCH", tags + "/latest", AUTH, json.dumps({"revision": 1}))[0] == 400
    assert f.req("PATCH", tags + "/nope", AUTH, json.dumps({"revision": 1}))[0] == 404
    assert f.req("PATCH", tags + "/stable", AUTH, json.dumps({"revision": 9}))[0] == 400
    assert f.req("DELETE", tags + "/stable", AUTH)[0] == 204
    assert f.req("GET", tags + "/stable", AUTH)[0] == 404


# ---- creating environments -------------------------------------------------------------------


def test_create_environment(make):
    f = make({"p/e": {"values": {}}})
    body = json.dumps({"project": "p", "name": "ledger"})
    assert f.req("POST", BASE, AUTH, body)[0] == 204
    assert f.req("POST", BASE, AUTH, body)[0] == 409
    assert [r["number"] for r in revisions(f, "p/ledger")] == [1]
    assert plain({"value": open_props(f, "p/ledger")}) == {}
    assert patch(f, "p/ledger", "values:\n  k: v\n")[0] == 200
    for bad in ({"project": "p"}, {"project": "default", "name": "x"}, {"project": "p", "name": "open"},
                {"project": "p", "name": "x", "extra": 1}):
        assert f.req("POST", BASE, AUTH, json.dumps(bad))[0] == 400, bad
    assert f.req("POST", BASE, {}, body)[0] == 401


def test_revisions_from_the_state_keep_an_unchanged_secrets_ciphertext(make):
    f = make({"p/e": {"history": [{"values": {"A": {"fn::secret": "a"}, "B": {"fn::secret": "b1"}}}],
                      "values": {"A": {"fn::secret": "a"}, "B": {"fn::secret": "b2"}}}})

    def ciphertexts(n):
        text = f.req("GET", env_path("p/e") + f"/versions/{n}", AUTH)[2].decode()
        return dict(re.findall(r"(\w+):\n\s+fn::secret:\n\s+ciphertext: (\S+)", text))

    first, second = ciphertexts(1), ciphertexts(2)
    assert set(first) == {"A", "B"}
    assert first["A"] == second["A"], "an untouched secret keeps its ciphertext"
    assert first["B"] != second["B"]
