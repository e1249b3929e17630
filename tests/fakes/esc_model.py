"""The fake Pulumi ESC service's model: environments, their revisions and the sessions
opened on them, built from the state file that esc_server.py documents (test support
only). esc_server.py maps the API's routes onto it; this file knows no HTTP.
"""

import base64
import hashlib
import json
import os
import re
from datetime import datetime, timedelta, timezone

import esc_eval
import fakelib
from esc_eval import EvalError
from fakelib import BadState, dumps


def _parse_time(text):
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise BadState(f"created must be an RFC 3339 time: {text!r}")


def _rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _yaml_scalar(v):
    return json.dumps(v, ensure_ascii=False)  # JSON scalars are valid YAML flow scalars


def default_yaml(values, imports, ciphers, kept=None):
    """A readable definition for `values` when the state gives none (JSON flow style is YAML),
    each `fn::secret` written as the service stores it, `ciphertext: C`: the C of `kept`
    ({path: (plaintext, C)}, the previous revision's) where the plaintext there is the same, as
    a save that does not touch a secret keeps its ciphertext, else a fresh one.
    -> (text, {path: (plaintext, C)})."""
    kept = kept or {}
    sealed = {}
    lines = []
    if imports:
        lines.append("imports:")
        lines.extend(f"  - {json.dumps(i, ensure_ascii=False)}" for i in imports)
    if not values:
        lines.append("values: {}")
        return "\n".join(lines) + "\n", sealed
    lines.append("values:")

    def emit(node, indent, path):
        pad = "  " * indent
        for k, v in node.items():
            key = _yaml_scalar(k) if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k) else k
            if isinstance(v, dict) and len(v) == 1 and "fn::secret" in v:
                plain = v["fn::secret"]
                old = kept.get(path + (k,))
                c = old[1] if old and old[0] == plain else ciphers.seal(plain)
                sealed[path + (k,)] = (plain, c)
                lines.append(f"{pad}{key}:")
                lines.append(f"{pad}  fn::secret:")
                lines.append(f"{pad}    ciphertext: {c}")
            elif isinstance(v, dict) and v:
                lines.append(f"{pad}{key}:")
                emit(v, indent + 1, path + (k,))
            else:
                lines.append(f"{pad}{key}: {json.dumps(v, ensure_ascii=False)}")

    emit(values, 1, ())
    return "\n".join(lines) + "\n", sealed


class Ciphers:
    """The fake's secret store: every plaintext `fn::secret` saved gets a fresh ciphertext
    (as the service encrypts with a new nonce each time), and only ciphertexts issued here or
    listed in the state's `ciphertexts` can be decrypted."""

    PREFIX = b"escx\x00\x00\x00\x01"

    def __init__(self, known=None):
        if known is not None and not isinstance(known, dict):
            raise BadState("ciphertexts must be an object {ciphertext: plaintext}")
        self.plain = dict(known or {})

    def seal(self, value):
        c = base64.b64encode(self.PREFIX + os.urandom(18)).decode()
        self.plain[c] = value
        return c

    def open(self, ciphertext):
        """The plaintext, or KeyError."""
        return self.plain[ciphertext]


_BLOCK_CIPHER = re.compile(r"(?m)^([ \t]*(?:- )?)fn::secret:[ \t]*\n[ \t]+ciphertext:[ \t]*(\S+)[ \t]*$")
_FLOW_CIPHER = re.compile(r"\{[ \t]*ciphertext:[ \t]*([^\s,{}]+)[ \t]*\}")
_BLOCK_PLAIN = re.compile(r"(?m)^([ \t]*)((?:- )?)fn::secret:[ \t]+(?![{\[|>&*!#])(\S.*?)[ \t]*$")
_FLOW_PLAIN = re.compile(r"\{([ \t]*)fn::secret:[ \t]*(?![{\[])([^{}\[\],\n]+?)[ \t]*\}")


def decrypt_text(text, ciphers):
    """The definition with static secrets in plaintext (`GET .../decrypt`). Ciphertexts the
    fake cannot decrypt are left as they are."""

    def block(m):
        try:
            return f"{m.group(1)}fn::secret: {json.dumps(ciphers.open(m.group(2)), ensure_ascii=False)}"
        except KeyError:
            return m.group(0)

    def flow(m):
        try:
            return json.dumps(ciphers.open(m.group(1)), ensure_ascii=False)
        except KeyError:
            return m.group(0)

    return _FLOW_CIPHER.sub(flow, _BLOCK_CIPHER.sub(block, text))


def seal_text(text, doc, ciphers):
    """The text the service stores for a saved definition: each plaintext `fn::secret`
    replaced by a fresh ciphertext, the rest as written. Where the text cannot be rewritten in
    place (block scalars and the like), the whole definition is re-rendered from `doc`."""
    import yaml

    def scalar(raw):
        try:
            v = yaml.safe_load(raw)
        except yaml.YAMLError:
            return None
        return v if isinstance(v, (str, int, float, bool)) else None

    def block(m):
        v = scalar(m.group(3))
        if v is None:
            return m.group(0)
        pad = m.group(1) + " " * len(m.group(2))
        return f"{m.group(1)}{m.group(2)}fn::secret:\n{pad}  ciphertext: {ciphers.seal(v)}"

    def flow(m):
        v = scalar(m.group(2))
        if v is None:
            return m.group(0)
        return f"{{{m.group(1)}fn::secret: {{ciphertext: {ciphers.seal(v)}}}}}"

    out = _FLOW_PLAIN.sub(flow, _BLOCK_PLAIN.sub(block, text))
    try:
        again = values_from_definition(out, ciphers)
        sealed = not _has_plain_secret(yaml.safe_load(out))
    except BadDefinition:
        again, sealed = None, False
    if again == doc and sealed:
        return out
    return default_yaml(doc["values"], doc["imports"], ciphers)[0]


def _has_plain_secret(node):
    if isinstance(node, dict):
        if len(node) == 1 and "fn::secret" in node:
            inner = node["fn::secret"]
            return not (isinstance(inner, dict) and list(inner) == ["ciphertext"])
        return any(_has_plain_secret(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_plain_secret(v) for v in node)
    return False


class BadDefinition(Exception):
    """A PATCHed definition the fake cannot take (answered with 400 and diagnostics)."""


def values_from_definition(text, ciphers):
    """The `imports` and `values` of a PATCHed definition, in the authoring form
    `esc_eval.evaluate` takes: {"imports": [...], "values": {...}}.

    PyYAML is imported here only, so the fake needs nothing but the standard library until
    a definition is PATCHed (tests that PATCH run it with the peers' Python). `fn::secret: X`
    marks X secret; `fn::secret: {ciphertext: C}` (what the service stores) is decrypted with
    `ciphers`, and one the fake cannot decrypt is refused, as the service refuses it.
    """
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise BadDefinition(f"invalid YAML: {getattr(e, 'problem', None) or 'cannot parse'}{at}")
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise BadDefinition("the definition must be a mapping")
    values = doc.get("values")
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise BadDefinition("values must be a mapping")
    imports = doc.get("imports") or []
    if not isinstance(imports, list):
        raise BadDefinition("imports must be a list")
    return {"imports": _authoring(imports, ciphers), "values": _authoring(values, ciphers)}


def _authoring(node, ciphers):
    if isinstance(node, dict):
        if len(node) == 1 and "fn::secret" in node:
            inner = node["fn::secret"]
            if isinstance(inner, dict) and list(inner) == ["ciphertext"]:
                try:
                    return {"fn::secret": ciphers.open(str(inner["ciphertext"]))}
                except KeyError:
                    raise BadDefinition("a fn::secret ciphertext cannot be decrypted")
            return {"fn::secret": _authoring(inner, ciphers)}
        return {str(k): _authoring(v, ciphers) for k, v in node.items()}
    if isinstance(node, list):
        return [_authoring(v, ciphers) for v in node]
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    return str(node)  # YAML timestamps and binary: as text


class Revision:
    """One saved revision: its stored text, its definition in authoring form (`doc`, secrets
    in plaintext), or `raw` properties served verbatim, and whether it was retracted."""

    def __init__(self, number, yaml, doc, created, raw=None, retracted=None):
        self.number = number
        self.yaml = yaml
        self.doc = doc
        self.raw = raw
        self.created = created
        self.retracted = retracted  # None, or the list's `retracted` object
        self.static_body = None  # the evaluated body, cached when it depends on nothing else
        self.creator_login = "fake-user"
        self.creator_name = "Fake User"


def _doc_of(rev, where):
    values = rev.get("values")
    if values is not None and not isinstance(values, dict):
        raise BadState(f"values of {where} must be an object")
    imports = rev.get("imports") or []
    if not isinstance(imports, list):
        raise BadState(f"imports of {where} must be a list")
    return {"imports": imports, "values": values or {}}


class Env:
    def __init__(self, name, spec, base_time, ciphers):
        parts = name.split("/")
        if len(parts) != 3 or not all(parts):
            raise BadState(f"environment name must be org/project/env: {name!r}")
        if not isinstance(spec, dict):
            raise BadState(f"environment {name!r} must be an object")
        self.name = name
        self.org, self.project, self.env = parts
        self.label = f"{self.project}/{self.env}"
        self.revisions = []
        history = spec.get("history") or []
        sealed = {}
        for i, rev in enumerate(list(history) + [spec]):
            doc = _doc_of(rev, name)
            y = rev.get("yaml")
            if y is None:
                y, sealed = default_yaml(doc["values"], doc["imports"], ciphers, sealed)
            created = _parse_time(rev["created"]) if rev.get("created") else base_time + timedelta(minutes=i)
            retracted = rev.get("retracted")
            if retracted is not None and not isinstance(retracted, dict):
                raise BadState(f"retracted of {name!r} must be an object")
            self.revisions.append(Revision(i + 1, y, doc, created, rev.get("properties_raw"), retracted))
        if self.current.retracted:
            raise BadState(f"the latest revision of {name!r} cannot be retracted")
        self.tags = {}
        for tag, spec_tag in (spec.get("tags") or {}).items():
            num = spec_tag.get("revision") if isinstance(spec_tag, dict) else spec_tag
            if not isinstance(num, int) or not 1 <= num <= len(self.revisions):
                raise BadState(f"tag {tag!r} of {name!r} names no revision")
            self.tags[tag] = {"revision": num, "created": base_time, "modified": base_time}
        self.created = base_time

    @property
    def current(self):
        return self.revisions[-1]

    def etag(self, rev=None):
        rev = rev or self.current
        h = hashlib.sha256(f"{self.name}\0{rev.number}\0{rev.yaml}".encode()).hexdigest()
        return f'"{h[:24]}"'

    def resolve(self, version):
        """The revision a version names (number, tag or `latest`), retracted or not; None."""
        if version == "latest":
            return self.current
        if re.fullmatch(r"[0-9]+", version):
            n = int(version)
            if 1 <= n <= len(self.revisions):
                return self.revisions[n - 1]
            return None
        t = self.tags.get(version)
        return self.revisions[t["revision"] - 1] if t else None

    def retract(self, number, replacement, reason, now):
        """Retract a revision as `esc env version retract` does: tags on it move to the
        replacement (default: the newest earlier revision that is not retracted)."""
        if not 1 <= number < len(self.revisions):
            raise ValueError("the latest revision cannot be retracted" if number == len(self.revisions)
                             else f"no revision {number}")
        if replacement is None:
            earlier = [r.number for r in self.revisions[: number - 1] if not r.retracted]
            replacement = earlier[-1] if earlier else len(self.revisions)
        if not 1 <= replacement <= len(self.revisions) or self.revisions[replacement - 1].retracted:
            raise ValueError(f"revision {replacement} cannot replace it")
        rev = self.revisions[number - 1]
        rev.retracted = {"replacement": replacement, "at": _rfc3339(now),
                         "byLogin": "fake-user", "byName": "Fake User"}
        if reason:
            rev.retracted["reason"] = reason
        for t in self.tags.values():
            if t["revision"] == number:
                t["revision"], t["modified"] = replacement, now


class State(fakelib.Recorder):
    def __init__(self, data):
        super().__init__(data)
        token = self.token
        self.auth_ok = "token " + token
        self.default_org = data.get("default_org")
        self.require_if_match = bool(data.get("require_if_match", False))
        base = datetime(2024, 1, 1, tzinfo=timezone.utc)
        self.ciphers = Ciphers(data.get("ciphertexts"))
        self.providers = data.get("providers") or {}
        if not isinstance(self.providers, dict):
            raise BadState("providers must be an object")
        self.envs = {n: Env(n, s, base, self.ciphers) for n, s in (data.get("environments") or {}).items()}
        # Evaluated now, so that a benchmark's first open costs what every other does.
        for env in self.envs.values():
            try:
                self.open_body(env, env.current)
            except EvalError:
                pass  # answered with diagnostics at open
        self.sessions = {}
        self.next_session = 40001
        self.oidc = data.get("oidc")
        self.actions = data.get("actions")

    def new_session(self, env, rev, body):
        with self.lock:
            sid = str(self.next_session)
            self.next_session += 1
            self.sessions[sid] = (env.name, rev, body)
            return sid

    def find_import(self, env, name):
        """An import's environment: `project/env` in the importer's organization, or a bare
        `env` in its `default` project, as ESC documents (reference, top-level key `imports`)."""
        if "/" in name:
            return self.envs.get(f"{env.org}/{name}")
        return self.envs.get(f"{env.org}/default/{name}")

    def evaluate(self, env, rev, stack=()):
        """-> (properties, dynamic): the revision evaluated as the service opens it, imports
        (at their pins) first, then its own values. Raises EvalError. Call with the lock held."""
        if rev.raw is not None:
            return rev.raw, False
        if env.name in stack:
            raise EvalError(f"cyclic import of {env.label}")
        base, dynamic = {}, bool(rev.doc["imports"])
        for imp in rev.doc["imports"]:
            merge_it = True
            if isinstance(imp, dict) and len(imp) == 1:
                (imp, opts), = imp.items()
                merge_it = not (isinstance(opts, dict) and opts.get("merge") is False)
            if not isinstance(imp, str) or not imp:
                raise EvalError("an import must be an environment name")
            name, _, version = imp.partition("@")
            target = self.find_import(env, name)
            if target is None:
                raise EvalError(f"unknown environment {name!r}")
            trev = target.resolve(version or "latest")
            if trev is None:
                raise EvalError(f"unknown revision {version!r} of environment {name!r}")
            if trev.retracted:
                raise EvalError(f"revision {trev.number} of environment {name!r} has been retracted")
            props, _ = self.evaluate(target, trev, stack + (env.name,))
            if merge_it:
                for k, v in props.items():
                    base[k] = esc_eval.merge(base[k], v) if k in base else v
        props, dyn = esc_eval.evaluate(rev.doc["values"], base, self.providers, env.label)
        return props, dynamic or dyn

    def open_body(self, env, rev):
        """The serialised body a session on this revision reads. Raises EvalError."""
        with self.lock:
            if rev.static_body is not None:
                return rev.static_body
            props, dynamic = self.evaluate(env, rev)
            body = dumps({"properties": props})
            if not dynamic:
                rev.static_body = body
            return body
