"""Evaluation of an ESC environment's definition, as the fake ESC service does it when the
environment is opened (test support only; standard library only).

What the real service does that escort's tests rely on (learned from pulumi/esc's eval package
and its documentation; our own code):
- `${path}` references the environment's merged root (its imports, then its own `values`):
  `a.b`, `a[0]`, `a["k"]`. A string that is exactly one `${...}` takes the referenced value
  (any type); inside a longer string the value is written as text (see to_string). `$$` is a
  literal `$`. References are followed transitively; a reference to a missing property and a
  cycle are errors.
- A value built from a secret is secret (a whole-value reference copies the secret flags; a
  string with any secret part is secret).
- `fn::secret: X` marks X and everything under it secret.
- `fn::open::test: {key: K}` is the fake's provider: its value is the state's `providers[K]`,
  read at each open (so it changes with no revision), always secret, as a secrets manager's
  values are. Any other `fn::open::*` provider is an error.
- `fn::rotate::NAME: {inputs: ..., state: S}` evaluates to S, the rotator's current state.
- `fn::join: [SEP, [ITEMS]]`, `fn::toJSON`, `fn::fromJSON`, `fn::toString`, `fn::toBase64`,
  `fn::fromBase64` as documented. Other `fn::` keys stay literal objects.
Imports are resolved by the caller (esc_model.State.evaluate), which passes their merged
properties as `base`.
"""

import base64
import json
import re

SECRET = "fn::secret"
PROVIDER = "fn::open::"
ROTATOR = "fn::rotate::"
TEST_PROVIDER = "fn::open::test"

_TOKEN = re.compile(r"\$\$|\$\{([^}]*)\}")
_STEP = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')
_MISSING = object()


class EvalError(Exception):
    """The definition cannot be evaluated; `diagnostics` is what the service answers with."""

    def __init__(self, summary):
        super().__init__(summary)
        self.diagnostics = [{"summary": summary, "severity": "error"}]


def is_fn(node):
    return isinstance(node, dict) and len(node) == 1 and next(iter(node)).startswith("fn::")


def parse_path(text):
    """`a.b[0]["k"]` -> ["a", "b", 0, "k"]."""
    keys, at = [], 0
    text = text.strip()
    while at < len(text):
        m = _STEP.match(text, at)
        if not m or m.end() == at or (at == 0 and text[0] == "."):
            raise EvalError(f"invalid property path {text!r}")
        if m.group(1) is not None:
            keys.append(m.group(1))
        elif m.group(2) is not None:
            keys.append(int(m.group(2)))
        else:
            keys.append(json.loads(f'"{m.group(3)}"'))
        at = m.end()
    if not keys:
        raise EvalError("empty property path")
    return keys


def show_path(keys):
    out = ""
    for k in keys:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else k)
    return out


def plain(value):
    """A Value tree -> plain JSON."""
    inner = value["value"]
    if isinstance(inner, dict):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, list):
        return [plain(v) for v in inner]
    return inner


def any_secret(value):
    if value.get("secret"):
        return True
    inner = value["value"]
    children = inner.values() if isinstance(inner, dict) else inner if isinstance(inner, list) else ()
    return any(any_secret(c) for c in children)


def mark_secret(value):
    value["secret"] = True
    inner = value["value"]
    for c in inner.values() if isinstance(inner, dict) else inner if isinstance(inner, list) else ():
        mark_secret(c)
    return value


def _copy(value, trace=None):
    """A deep copy of a Value tree (a reference must not share nodes), with a new trace on top."""
    inner = value["value"]
    if isinstance(inner, dict):
        inner = {k: _copy(v) for k, v in inner.items()}
    elif isinstance(inner, list):
        inner = [_copy(v) for v in inner]
    out = {"value": inner}
    if value.get("secret"):
        out["secret"] = True
    out["trace"] = trace if trace is not None else value.get("trace", {})
    return out


def from_plain(node, trace, secret=False):
    """Plain JSON -> a Value tree, every node with `trace`."""
    if isinstance(node, dict):
        inner = {k: from_plain(v, trace, secret) for k, v in node.items()}
    elif isinstance(node, list):
        inner = [from_plain(v, trace, secret) for v in node]
    else:
        inner = node
    out = {"value": inner}
    if secret:
        out["secret"] = True
    out["trace"] = trace
    return out


def to_string(v):
    """Plain JSON as text, as the service writes a value into a string: scalars as written (null
    as nothing), an array as its quoted items joined by commas, an object as sorted
    `"key"="value"` pairs joined by commas."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    if isinstance(v, list):
        return ",".join(json.dumps(to_string(i), ensure_ascii=False) for i in v)
    if isinstance(v, dict):
        return ",".join(f"{json.dumps(k, ensure_ascii=False)}={json.dumps(to_string(v[k]), ensure_ascii=False)}"
                        for k in sorted(v))
    return v


def merge(base, own):
    """Deep merge of two Values: objects merge key by key, anything else is replaced."""
    if isinstance(base.get("value"), dict) and isinstance(own.get("value"), dict) and not is_fn(own["value"]):
        merged = {k: v for k, v in base["value"].items()}
        for k, v in own["value"].items():
            merged[k] = merge(merged[k], v) if k in merged else v
        out = dict(own, value=merged)
        return out
    return own


class Evaluator:
    """One evaluation of one environment's `values` over the merged `base` of its imports.

    `positions(path)` gives the synthetic source range of the authoring node at `path`, so a
    definition without any function or reference evaluates to what to_value made before.
    `dynamic` is set when a provider was read (the result must not be cached).
    """

    def __init__(self, values, base, providers, positions):
        self.values = values or {}
        self.base = base or {}
        self.providers = providers
        self.positions = positions
        self.memo = {}
        self.active = []
        self.dynamic = False

    def trace(self, path):
        return {"def": self.positions(path)}

    def root(self):
        out = dict(self.base)
        out.update({k: self.node((k,)) for k in self.values})
        return out

    def base_at(self, path):
        """The imports' merged Value at `path`, or None."""
        cur = {"value": self.base}
        for k in path:
            inner = cur["value"]
            if isinstance(inner, dict) and isinstance(k, str) and k in inner:
                cur = inner[k]
            elif isinstance(inner, list) and isinstance(k, int) and 0 <= k < len(inner):
                cur = inner[k]
            else:
                return None
        return cur

    def own(self, path):
        n = self.values
        for k in path:
            if isinstance(n, dict) and len(n) == 1 and SECRET in n:
                n = n[SECRET]  # a secret's value sits at the wrapper's path
            if isinstance(n, dict) and isinstance(k, str) and k in n:
                n = n[k]
            elif isinstance(n, list) and isinstance(k, int) and 0 <= k < len(n):
                n = n[k]
            else:
                return _MISSING
        return n

    def node(self, path):
        if path in self.memo:
            return self.memo[path]
        if path in self.active:
            raise EvalError(f"cyclic reference to {show_path(path)}")
        self.active.append(path)
        try:
            v = self.eval(self.own(path), path)
        finally:
            self.active.pop()
        self.memo[path] = v
        return v

    def resolve(self, keys):
        """The Value at `keys` in the merged root."""
        n, i = self.values, 0
        while i < len(keys):
            k = keys[i]
            if isinstance(n, dict) and not is_fn(n) and isinstance(k, str) and k in n:
                n = n[k]
            elif isinstance(n, list) and isinstance(k, int) and 0 <= k < len(n):
                n = n[k]
            else:
                break
            i += 1
        if i == 0:
            cur = self.base.get(keys[0]) if isinstance(keys[0], str) else None
            i = 1
        else:
            cur = self.node(tuple(keys[:i]))
        for k in keys[i:]:
            if cur is None:
                break
            inner = cur["value"]
            if isinstance(inner, dict) and isinstance(k, str):
                cur = inner.get(k)
            elif isinstance(inner, list) and isinstance(k, int) and 0 <= k < len(inner):
                cur = inner[k]
            else:
                cur = None
        if cur is None:
            raise EvalError(f"unknown property {show_path(keys)}")
        return cur

    def eval(self, n, path):
        if isinstance(n, dict) and is_fn(n):
            return self.function(next(iter(n)), next(iter(n.values())), path)
        if isinstance(n, dict):
            inner = {k: self.node(path + (k,)) for k in n}
            own = {"value": inner, "trace": self.trace(path)}
            base = self.base_at(path)
            return merge(base, own) if base is not None else own
        if isinstance(n, list):
            return {"value": [self.node(path + (i,)) for i in range(len(n))], "trace": self.trace(path)}
        if isinstance(n, str):
            return self.interpolate(n, path)
        return {"value": n, "trace": self.trace(path)}

    def interpolate(self, text, path):
        parts = []
        last = 0
        for m in _TOKEN.finditer(text):
            if m.start() > last:
                parts.append(text[last:m.start()])
            parts.append("$" if m.group(0) == "$$" else self.resolve(parse_path(m.group(1))))
            last = m.end()
        if last < len(text):
            parts.append(text[last:])
        if len(parts) == 1 and isinstance(parts[0], dict):
            return _copy(parts[0], self.trace(path))
        out = {"value": "".join(p if isinstance(p, str) else to_string(plain(p)) for p in parts)}
        if any(isinstance(p, dict) and any_secret(p) for p in parts):
            out["secret"] = True
        out["trace"] = self.trace(path)
        return out

    def function(self, name, arg, path):
        at = path + (name,)
        if name == SECRET:
            return mark_secret(self.eval(arg, path))
        args = self.eval(arg, at)
        secret = any_secret(args)
        if name.startswith(PROVIDER):
            if name != TEST_PROVIDER:
                raise EvalError(f"unknown provider {name[len(PROVIDER):]!r} (the fake has only 'test')")
            key = plain(args).get("key") if isinstance(args["value"], dict) else None
            if not isinstance(key, str) or key not in self.providers:
                raise EvalError(f"provider test: no value for key {key!r}")
            self.dynamic = True
            return from_plain(self.providers[key], self.trace(path), True)
        if name.startswith(ROTATOR):
            inner = args["value"]
            if not isinstance(inner, dict) or "state" not in inner:
                raise EvalError(f"{name}: a rotator needs a state")
            return _copy(inner["state"], self.trace(path))
        builtin = BUILTINS.get(name)
        if builtin is None:
            return {"value": {name: args}, "trace": self.trace(path)}
        try:
            result = builtin(plain(args))
        except (TypeError, ValueError, KeyError, IndexError) as e:
            raise EvalError(f"{name}: {e}")
        return from_plain(result, self.trace(path), secret)


def _join(args):
    sep, items = args
    if not isinstance(sep, str) or not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise TypeError("expects [separator, [strings]]")
    return sep.join(items)


BUILTINS = {
    "fn::join": _join,
    "fn::toJSON": lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False),
    "fn::fromJSON": json.loads,
    "fn::toString": to_string,
    "fn::toBase64": lambda v: base64.b64encode(v.encode("utf-8")).decode(),
    "fn::fromBase64": lambda v: base64.b64decode(v, validate=True).decode("utf-8"),
}


def positions_of(values, label):
    """Synthetic source ranges for every authoring node, in document order (a `fn::secret`
    wrapper takes none of its own): path -> range."""
    ranges = {}
    state = {"line": 0, "byte": 0}

    def nxt():
        state["line"] += 1
        begin = {"line": state["line"], "column": 1, "byte": state["byte"]}
        state["byte"] += 10
        end = {"line": state["line"], "column": 11, "byte": state["byte"]}
        return {"environment": label, "begin": begin, "end": end}

    def walk(node, path):
        if isinstance(node, dict) and len(node) == 1 and SECRET in node:
            return walk(node[SECRET], path)
        ranges[path] = nxt()
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + (i,))

    for k, v in (values or {}).items():
        walk(v, (k,))
    fallback = {"environment": label, "begin": {"line": 1, "column": 1, "byte": 0},
                "end": {"line": 1, "column": 2, "byte": 1}}
    return lambda path: ranges.get(path, fallback)


def evaluate(values, base, providers, label):
    """-> (properties, dynamic). Raises EvalError."""
    ev = Evaluator(values, base, providers, positions_of(values, label))
    return ev.root(), ev.dynamic
