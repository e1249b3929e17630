#!/usr/bin/env python3
"""Import cycles between the files of src/ (docs/ARCHITECTURE.md: layers point one way).

A file depends on another when it names a module path that resolves into it:
`use crate::a::B`, `crate::a::b::f()`, `super::X`, `self::child::Y`, or a path
through a module name brought in by `use` or declared with `mod`. A parent names
each child it declares (`mod child;`), so a child that uses what its parent
defines (`use super::X`, X an item of the parent's mod.rs) closes a cycle too:
what children share belongs in a sibling module. Test modules (`#[cfg(test)]`)
count like any other code. Prints each cycle (a strongly connected set of files,
with one loop through it) and exits 1 if there is any; python3 standard library
only. Usage: scripts/cycles.py [SRC_DIR]
"""
import os
import re
import sys

TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>//[^\n]*)
  | (?P<block>/\*)
  | (?P<raw>b?r(?P<hashes>\#*)")
  | (?P<string>b?"(?:\\.|[^"\\])*")
  | (?P<char>b?'(?:\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])')
  | (?P<lifetime>'[A-Za-z_][A-Za-z0-9_]*)
  | (?P<ident>r\#[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*)
  | (?P<path>::)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokens(text):
    """Identifiers, `::` and punctuation; comments, strings and chars dropped."""
    out = []
    i = 0
    while i < len(text):
        m = TOKEN.match(text, i)
        kind = m.lastgroup if m.lastgroup != "hashes" else "raw"
        if m.group("block"):
            depth, j = 1, m.end()
            while depth and j < len(text):
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            i = j
            continue
        if m.group("raw") is not None:
            end = text.find('"' + m.group("hashes"), m.end())
            i = len(text) if end < 0 else end + 1 + len(m.group("hashes"))
            continue
        i = m.end()
        if kind in ("space", "comment", "string", "char", "lifetime"):
            continue
        value = m.group(kind)
        out.append(value[2:] if value.startswith("r#") else value)
    return out


def module_files(src):
    """Module path (tuple) -> file, for the library crate rooted at src/lib.rs."""
    files = {}
    for root, _, names in os.walk(src):
        for name in names:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, name), src)
            parts = rel[: -len(".rs")].split(os.sep)
            if parts == ["main"]:
                continue  # the binary's root, not a module of the library
            if parts == ["lib"]:
                parts = []
            elif parts[-1] == "mod":
                parts = parts[:-1]
            files[tuple(parts)] = rel
    return files


def use_paths(toks, i):
    """Expand the use tree starting at toks[i]; return (paths, index after `;`).
    Each path is (segments, alias)."""
    paths = []

    def tree(i, prefix):
        segs = list(prefix)
        while i < len(toks):
            t = toks[i]
            if t == "{":
                i += 1
                while toks[i] != "}":
                    i = tree(i, segs)
                    if toks[i] == ",":
                        i += 1
                return i + 1
            if t == "*":
                paths.append((segs, None))
                return i + 1
            if t == "::":
                i += 1
                continue
            if t in (",", "}", ";"):
                paths.append((segs, segs[-1] if segs else None))
                return i
            if t == "as":
                paths.append((segs, toks[i + 1]))
                return i + 2
            segs = segs + [t]
            i += 1
        return i

    while toks[i] != ";":
        i = tree(i, [])
    return paths, i + 1


def analyse(src):
    files = module_files(src)
    edges = {f: {} for f in files.values()}  # file -> {file: first path seen}
    scanned = {rel: scan(src, module, rel, files) for module, rel in files.items()}
    for module, rel in files.items():
        found, children, aliases, _ = scanned[rel]
        for here, segs in found:
            target = resolve(here, segs, files, children, aliases, module, scanned)
            if target is not None and target != rel:
                edges[rel].setdefault(target, "::".join(segs))
    return edges


def scan(src, module, rel, files):
    """What one file names: (paths with the module naming them, child modules,
    names brought in by `use`, names re-exported by `pub use`)."""
    toks = tokens(open(os.path.join(src, rel), encoding="utf-8").read())
    children = {m[-1] for m in files if m[:-1] == module and len(m) == len(module) + 1}
    aliases = {}
    reexports = {}
    stack = []  # inline modules: (name, brace depth at which it closes)
    depth = 0
    found = []  # (current module, segments)
    i = 0
    while i < len(toks):
        t = toks[i]
        here = module + tuple(name for name, _ in stack)
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
            if stack and stack[-1][1] == depth:
                stack.pop()
        elif t == "mod" and i + 2 < len(toks) and toks[i + 2] in (";", "{"):
            if toks[i + 2] == "{":
                stack.append((toks[i + 1], depth))
                depth += 1
                i += 3
                continue
            found.append((here, ["self", toks[i + 1]]))
        elif t == "use" and (i == 0 or toks[i - 1] != "::"):
            public = i > 0 and (toks[i - 1] == "pub" or toks[i - 4 : i] == ["pub", "(", "crate", ")"])
            paths, i = use_paths(toks, i + 1)
            for segs, alias in paths:
                found.append((here, segs))
                if alias and segs:
                    aliases[alias] = (here, segs)
                    if public and here == module:
                        reexports[alias] = (here, segs)
            continue
        elif re.match(r"[A-Za-z_]", t) and i + 1 < len(toks) and toks[i + 1] == "::" and (
            i == 0 or toks[i - 1] != "::"
        ):
            segs = [t]
            j = i + 1
            while j + 1 < len(toks) and toks[j] == "::" and re.match(r"[A-Za-z_]", toks[j + 1]):
                segs.append(toks[j + 1])
                j += 2
            found.append((here, segs))
            i = j
            continue
        i += 1
    return found, children, aliases, reexports


def resolve(here, segs, files, children, aliases, file_module, scanned, seen=0):
    """The file that `segs`, named in module `here`, reaches; None for other
    crates. A name a module re-exports (`pub use`) is followed to where it is
    defined: a re-export does not make the module depend on its user."""
    if seen > 20:
        return None
    if not segs:
        return None
    head, rest = segs[0], segs[1:]
    if head == "crate":
        base = ()
    elif head in ("self", "super"):
        base = here
        while segs and segs[0] in ("self", "super"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
        rest = segs
    elif head in aliases:
        alias_here, alias_segs = aliases[head]
        if alias_segs and alias_segs[0] not in ("crate", "super", "self") and alias_segs[0] not in children:
            return None  # another crate's
        return resolve(alias_here, alias_segs + rest, files, children, {}, file_module, scanned, seen + 1)
    elif here == file_module and head in children:
        base, rest = here + (head,), rest
    elif len(here) > len(file_module):
        return None  # an inline module's own names: the file itself
    else:
        return None
    module = base
    left = list(rest)
    while left and module + (left[0],) in files:
        module = module + (left.pop(0),)
    while module not in files:
        module = module[:-1]  # an inline module: its file
    file = files[module]
    if left and left[0] in scanned[file][3]:
        where, segs = scanned[file][3][left[0]]
        _, kids, names, _ = scanned[file]
        return resolve(where, segs + left[1:], files, kids, names, module, scanned, seen + 1)
    return file


def cycles(edges):
    """Strongly connected sets of more than one file (Tarjan), largest first."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out, key=len, reverse=True)


def loop_through(group, edges):
    """A shortest loop from the group's first file back to it, as evidence."""
    start = group[0]
    members = set(group)
    prev = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges[v]):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                path.reverse()
                return path + [start]
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    return [start]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
    edges = analyse(src)
    found = cycles(edges)
    for group in found:
        print(f"cycle of {len(group)} files: {' '.join(group)}")
        path = loop_through(group, edges)
        print("  for example: " + " -> ".join(
            f"{a} ({edges[a][b]})" for a, b in zip(path, path[1:])) + f" -> {path[-1]}")
    if found:
        print(f"cycles: {len(found)} import cycles between the files of src/", file=sys.stderr)
        return 1
    print("cycles: none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
