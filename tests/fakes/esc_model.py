"""The fake Pulumi ESC service's model: environments, their revisions and the sessions
opened on them, built from the state file that esc_server.py documents (test support
only). esc_server.py maps the API's routes onto it; this file knows no HTTP.
"""

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone

import fakelib
from fakelib import BadState, dumps


def _parse_time(text):
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise BadState(f"created must be an RFC 3339 time: {text!r}")


def _rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Pos:
    """Synthetic source positions so every Value carries a plausible trace."""

    def __init__(self):
        self.line = 0
        self.byte = 0

    def next_range(self, env):
        self.line += 1
        begin = {"line": self.line, "column": 1, "byte": self.byte}
        self.byte += 10
        end = {"line": self.line, "column": 11, "byte": self.byte}
        return {"environment": env, "begin": begin, "end": end}


def to_value(node, env, secret=False, pos=None):
    """Authoring form -> ESC `Value` tree (with trace; secret inherited by descendants)."""
    if pos is None:
        pos = _Pos()
    if isinstance(node, dict) and len(node) == 1 and "fn::secret" in node:
        return to_value(node["fn::secret"], env, True, pos)
    trace = {"def": pos.next_range(env)}
    if isinstance(node, dict):
        inner = {k: to_value(v, env, secret, pos) for k, v in node.items()}
    elif isinstance(node, list):
        inner = [to_value(v, env, secret, pos) for v in node]
    else:
        inner = node
    out = {"value": inner}
    if secret:
        out["secret"] = True
    out["trace"] = trace
    return out


def properties_of(values, env_label):
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise BadState("values must be an object")
    pos = _Pos()
    return {k: to_value(v, env_label, False, pos) for k, v in values.items()}


def _yaml_scalar(v):
    return json.dumps(v, ensure_ascii=False)  # JSON scalars are valid YAML flow scalars


def default_yaml(values):
    """A readable definition for `values` when the state gives none (JSON flow style is YAML)."""
    if not values:
        return "values: {}\n"
    lines = ["values:"]

    def emit(node, indent):
        pad = "  " * indent
        for k, v in node.items():
            key = _yaml_scalar(k) if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k) else k
            if isinstance(v, dict) and len(v) == 1 and "fn::secret" in v:
                lines.append(f"{pad}{key}:")
                lines.append(f"{pad}  fn::secret: {json.dumps(v['fn::secret'], ensure_ascii=False)}")
            elif isinstance(v, dict):
                lines.append(f"{pad}{key}:")
                emit(v, indent + 1)
            else:
                lines.append(f"{pad}{key}: {json.dumps(v, ensure_ascii=False)}")

    emit(values, 1)
    return "\n".join(lines) + "\n"


class BadDefinition(Exception):
    """A PATCHed definition the fake cannot take (answered with 400 and diagnostics)."""


def values_from_definition(text):
    """The `values` of a PATCHed definition, in the authoring form `properties_of` takes.

    PyYAML is imported here only, so the fake needs nothing but the standard library until
    a definition is PATCHed (tests that PATCH run it with the peers' Python). Evaluated:
    `fn::secret: X` marks X secret, and `fn::secret: {ciphertext: C}` (what the real service
    stores) is a secret whose value is the text C, as the fake cannot decrypt. Not evaluated:
    `imports`, other `fn::` functions and `${...}` interpolation, which stay literal values
    (a `$$` is read as one `$`, as ESC reads it).
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
        return {}
    if not isinstance(values, dict):
        raise BadDefinition("values must be a mapping")
    return _authoring(values)


def _esc_string(text, secret):
    """A string as ESC reads it, left to right: `$$` is one `$`, and `${` starts an
    interpolation. The fake does not evaluate interpolations (such a string is kept as
    written); in a `fn::secret` one is refused, as ESC takes only a string literal there."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            if secret:
                raise BadDefinition("secret values must be string literals")
            return text
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _authoring(node, secret=False):
    if isinstance(node, dict):
        if len(node) == 1 and "fn::secret" in node:
            inner = node["fn::secret"]
            if isinstance(inner, dict) and list(inner) == ["ciphertext"]:
                return {"fn::secret": str(inner["ciphertext"])}
            if not isinstance(inner, str):
                raise BadDefinition("secret values must be string literals")
            return {"fn::secret": _esc_string(inner, True)}
        return {str(k): _authoring(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_authoring(v) for v in node]
    if isinstance(node, str):
        return _esc_string(node, secret)
    if node is None or isinstance(node, (bool, int, float)):
        return node
    return str(node)  # YAML timestamps and binary: as text


class Revision:
    __slots__ = ("number", "yaml", "read_body", "created", "creator_login", "creator_name")

    def __init__(self, number, yaml, read_body, created):
        self.number = number
        self.yaml = yaml
        self.read_body = read_body  # pre-serialised GET open/{id} response
        self.created = created
        self.creator_login = "fake-user"
        self.creator_name = "Fake User"


class Env:
    def __init__(self, name, spec, base_time):
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
        for i, rev in enumerate(list(history) + [spec]):
            read_body = self.read_body(rev)
            y = rev.get("yaml")
            if y is None:
                y = default_yaml(rev.get("values"))
            created = _parse_time(rev["created"]) if rev.get("created") else base_time + timedelta(minutes=i)
            self.revisions.append(Revision(i + 1, y, read_body, created))
        self.tags = {}
        for tag, num in (spec.get("tags") or {}).items():
            if not isinstance(num, int) or not 1 <= num <= len(self.revisions):
                raise BadState(f"tag {tag!r} of {name!r} names no revision")
            self.tags[tag] = num
        self.created = base_time

    def read_body(self, rev):
        raw = rev.get("properties_raw")
        props = raw if raw is not None else properties_of(rev.get("values"), self.label)
        return dumps({"properties": props})

    @property
    def current(self):
        return self.revisions[-1]

    def etag(self, rev=None):
        rev = rev or self.current
        h = hashlib.sha256(f"{self.name}\0{rev.number}\0{rev.yaml}".encode()).hexdigest()
        return f'"{h[:24]}"'

    def resolve(self, version):
        if version == "latest":
            return self.current
        if re.fullmatch(r"[0-9]+", version):
            n = int(version)
            if 1 <= n <= len(self.revisions):
                return self.revisions[n - 1]
            return None
        n = self.tags.get(version)
        return self.revisions[n - 1] if n else None


class State(fakelib.Recorder):
    def __init__(self, data):
        super().__init__(data)
        token = self.token
        self.auth_ok = "token " + token
        self.default_org = data.get("default_org")
        self.require_if_match = bool(data.get("require_if_match", False))
        base = datetime(2024, 1, 1, tzinfo=timezone.utc)
        self.envs = {n: Env(n, s, base) for n, s in (data.get("environments") or {}).items()}
        self.sessions = {}
        self.next_session = 40001
        self.oidc = data.get("oidc")
        self.actions = data.get("actions")



    def new_session(self, env, rev):
        with self.lock:
            sid = str(self.next_session)
            self.next_session += 1
            self.sessions[sid] = (env.name, rev)
            return sid
