#!/usr/bin/env python3
"""escort's benchmarks, in one program.

Every measurement runs escort against the loopback fakes (tests/fakes/*.py on 127.0.0.1) next
to a reference doing the same work on the same data, and reports the ratio as well as the
absolute figures, since ratios from one run move much less than times do:

  load       `escort load` vs plain curl (the same two requests) and the official ESC SDKs for
             Python and Node.js, on 10, 200 and 10,000 variables, for each build
  cost       `escort load` of 10,000 variables: peak memory growth over an empty environment
             against the response body, and instructions per variable (valgrind); the fixed
             cost over http and https; src/alloc.rs against the `mimalloc` crate's allocator
  startup    `--version` start-up against curl's, binary sizes, the static build's checks
  redaction  `escort run -- cat FILE...` vs `cat FILE...`: MB/s with one 64 KB file secret,
             a 4 KB PEM and 1,000 secrets
  dotenv     `escort check` reading a .env file with one 20 MiB value, in each quoting
  check      `escort check` of 1,000 secrets from ESC, env and .env, beyond the ESC round trip
  sync       `escort sync` of 200 secrets to GitHub with 50 ms per request vs the serial bound
  ledger-status  `escort status` of 200 keys to 5 repositories at 50 ms per request: with a
             ledger against dates from the revision walk
The goals are the README's and the issues' (docs/benchmarks.md lists each one).

Usage: scripts/bench.py [--quick] [--publish] [--no-build] [--strict] [--only NAME,...]
  --quick     a smoke run (fewer sizes, runs and bytes; about two minutes)
  --publish   build the static release binary too, and rewrite docs/benchmarks.md
  --no-build  use target/release/escort (and the static build, if there) as they are
  --strict    exit 1 when a goal is missed (a benchmark that fails to run always does)
  --only      run these benchmarks only (names above)

Python 3 standard library only; the peers (scripts/setup-peers.sh) run the SDKs and the fakes.
Adding a benchmark is one function `Bench -> Section` and one entry in BENCHMARKS.
"""

import argparse
import base64
import json
import os
import platform
import random
import re
import selectors
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
PEER_PY = ROOT / "target" / "peers" / "venv" / "bin" / "python"
FAKES = ROOT / "tests" / "fakes"
PEERS = ROOT / "tests" / "peers"
ESC_TOKEN = "pul-bench-0123456789abcdef"  # not "token...": the Node SDK would send it bare
GITHUB_TOKEN = "ghp-bench-0123456789"
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
MIB = 1 << 20


class BenchError(Exception):
    """A benchmark could not run (its section is reported as failed; the others go on)."""


@dataclass
class Build:
    key: str  # short name in tables
    label: str
    path: Path


@dataclass
class Goal:
    goal: str
    measured: str
    ok: bool | None  # None: not measured on this machine


@dataclass
class Section:
    title: str
    lines: list = field(default_factory=list)  # Markdown
    goals: list = field(default_factory=list)

    def table(self, header, rows):
        self.lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
        self.lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        self.lines.append("")

    def say(self, *text):
        self.lines += [*text, ""]

    def goal(self, goal, measured, ok):
        self.goals.append(Goal(goal, measured, ok))


@dataclass
class Timing:
    median: float  # seconds
    stddev: float


def ms(seconds):
    return f"{seconds * 1000:.2f}"


def mbps(nbytes, seconds):
    rate = nbytes / max(seconds, 1e-9) / 1e6
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.2f}"


def verdict(ok):
    return {True: "ok", False: "**MISSED**", None: "not measured"}[ok]


def base_env(**extra):
    """The caller's environment without anything that configures escort or its peers."""
    skip = ("ESC_", "PULUMI_", "GITHUB_", "GH_", "FLY_", "ESCORT_", "RUNNER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env["NO_COLOR"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(cmd, env=None, *, what=None, timeout=None):
    """Run cmd (argv, or a string for sh) and return its stdout; a failure is a BenchError
    naming the command and quoting its stderr (escort's stderr never holds a value)."""
    r = subprocess.run(cmd, env=env or base_env(), shell=isinstance(cmd, str), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    if r.returncode:
        name = what or (cmd if isinstance(cmd, str) else shlex.join(map(str, cmd)))
        raise BenchError(f"{name[:200]} failed (exit {r.returncode}): {r.stderr.decode(errors='replace')[-600:]}")
    return r.stdout


class Timer:
    """Median wall time of a command: of the process as its parent sees it for argv, less
    the shell's own start-up (`sh -c :`) for shell strings. A command slower than `cap`
    seconds is timed once: the run-to-run noise is small beside it."""

    def __init__(self, quick):
        self.min_runs, self.max_runs = (5, 50) if quick else (30, 300)
        self.budget, self.cap = (0.5, 2.0) if quick else (3.0, 10.0)
        self.shell = 0.0  # while timing the shell itself
        self.shell = self.time(":", min_runs=20, budget=0.2).median

    @staticmethod
    def once(cmd, env):
        start = time.perf_counter()
        r = subprocess.run(cmd, env=env, shell=isinstance(cmd, str), stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        took = time.perf_counter() - start
        if r.returncode:
            run(cmd, env)  # again, to report its error
            raise BenchError(f"{cmd} failed (exit {r.returncode}) only when timed")
        return took

    def time(self, cmd, env=None, *, min_runs=None, max_runs=None, budget=None, first=None):
        """`first`: the time of a run already made (a sanity check's), instead of a warm-up."""
        env = env or base_env()
        min_runs, max_runs = min_runs or self.min_runs, max_runs or self.max_runs
        budget = self.budget if budget is None else budget
        overhead = self.shell if isinstance(cmd, str) else 0.0
        if first is None:
            first = self.once(cmd, env)  # warm-up: caches, the fake's first connection
        times, start = [], time.perf_counter()
        if first >= self.cap:
            times.append(first)
        while len(times) < max_runs:
            elapsed = time.perf_counter() - start
            if times and (elapsed >= self.cap or (len(times) >= min_runs and elapsed >= budget)):
                break
            times.append(self.once(cmd, env))
        times = [max(t - overhead, 0.0) for t in times]
        return Timing(statistics.median(times), statistics.pstdev(times))


class Fake:
    """One of tests/fakes/*.py on 127.0.0.1 with the given state; it exits with its stdin."""

    def __init__(self, script, state):
        WORK.mkdir(parents=True, exist_ok=True)
        self.state_path = WORK / f"{script}.state.json"
        self.state_path.write_text(json.dumps(state))
        self.log = open(WORK / f"{script}.log", "wb")
        self.proc = subprocess.Popen([str(PEER_PY), str(FAKES / f"{script}.py"), "--state", str(self.state_path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        line = self.proc.stdout.readline().decode() if sel.select(timeout=20) else ""
        m = re.fullmatch(r"READY (http://127\.0\.0\.1:\d+)\n", line)
        if not m:
            self.close()
            raise BenchError(f"the fake {script} did not start: {(WORK / f'{script}.log').read_text()[-600:]}")
        self.url = m.group(1)

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.load(r)

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def esc_state(environments):
    """The fake ESC's state: {ref: values} with values in ESC's authoring form."""
    return {"token": ESC_TOKEN, "default_org": "acme",
            "environments": {ref: {"values": values} for ref, values in environments.items()}}


def variables(n, rnd, secret_every=2):
    """n variables of 32 random characters; every secret_every-th one a secret."""
    out = {}
    for i in range(n):
        v = "".join(rnd.choice(ALNUM) for _ in range(32))
        out[f"VAR_{i:05d}"] = {"fn::secret": v} if i % secret_every == secret_every - 1 else v
    return out


def curl_load(url, envref):
    """Plain curl making escort's two requests (open, read), as one sh command."""
    api = f"{url}/api/esc/environments/{envref}"
    h = f"-H {shlex.quote('Authorization: token ' + ESC_TOKEN)} -H 'Accept: application/vnd.pulumi+8'"
    return (f"r=$(curl -sS --fail -X POST {h} {shlex.quote(api + '/open?duration=1h')}) && "
            'id=${r#*\\"id\\":\\"} && id=${id%%\\"*} && '
            f"curl -sS --fail {h} {shlex.quote(api + '/open/')}\"$id\" > /dev/null")


def response_body(url, envref):
    """The body of the read request, as escort receives it."""
    api = f"{url}/api/esc/environments/{envref}"
    headers = {"Authorization": f"token {ESC_TOKEN}", "Accept": "application/vnd.pulumi+8"}
    req = urllib.request.Request(api + "/open?duration=1h", method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        session = json.load(r)["id"]
    with urllib.request.urlopen(urllib.request.Request(f"{api}/open/{session}", headers=headers), timeout=30) as r:
        return r.read()


class Bench:
    def __init__(self, args):
        self.quick = args.quick
        self.builds = []
        self.static_check = None  # "passed" / "FAILED" / None (no static build)
        self.variant = None  # the build with the `mimalloc` crate's allocator, if there (bench_cost)
        self.timer = None

    def esc_env(self, url, envref, **extra):
        return base_env(ESC_API_URL=url, ESC_TOKEN=ESC_TOKEN, ESC_ENV=envref, **extra)

    @property
    def escort(self):
        return self.builds[0].path


# --- the benchmarks -------------------------------------------------------------------------


def bench_load(b):
    """escort load vs curl and the official SDKs, per size and build."""
    s = Section("load: escort against curl and the official SDKs")
    sizes = [200] if b.quick else [10, 200, 10_000]
    rnd = random.Random(42)
    envs = {f"acme/bench/n{n}": {"environmentVariables": variables(n, rnd)} for n in [0, *sizes]}
    times = {}  # (n, command) -> Timing
    with Fake("esc_server", esc_state(envs)) as esc:
        for n in [0, *sizes]:
            ref = f"acme/bench/n{n}"
            cmds = {"curl": (curl_load(esc.url, ref), None)}
            for build in b.builds:
                for fmt in ("json", "shell"):
                    cmds[f"{build.key} {fmt}"] = ([str(build.path), "load", "--format", fmt], b.esc_env(esc.url, ref))
            if n:
                sdk_args = ["--count-only", esc.url, ESC_TOKEN, ref]
                cmds["Python SDK"] = ([str(PEER_PY), str(PEERS / "esc_sdk_read.py"), *sdk_args], None)
                cmds["Node SDK"] = (["node", str(PEERS / "esc_sdk_read.mjs"), *sdk_args], None)
                # Sanity: every build prints what the Python SDK reads.
                want = json.loads(run([str(PEER_PY), str(PEERS / "esc_sdk_read.py"), esc.url, ESC_TOKEN, ref]))
                for build in b.builds:
                    if json.loads(run(*cmds[f"{build.key} json"])) != want:
                        raise BenchError(f"{build.label} loads other values than the Python SDK for n={n}")
                if int(run(*cmds["Node SDK"])) != n:
                    raise BenchError(f"the Node SDK did not read {n} variables")
            for name, (cmd, env) in cmds.items():
                sdk = name.endswith("SDK")
                times[n, name] = b.timer.time(cmd, env, min_runs=3 if sdk else None, max_runs=15 if sdk else None)
            print(f"  load n={n}: " + ", ".join(f"{k[1]} {ms(t.median)} ms" for k, t in times.items() if k[0] == n), flush=True)

    s.say("Each command opens and reads the same environment from the fake ESC (half of the variables",
          "secrets, each value 32 random characters). escort / curl: at most 1.5 (lower is better);",
          "SDK / escort: how many times slower the SDK is (at least 10 for Python, 5 for Node).")
    rows = []
    for build in b.builds:
        worst = [0.0, float("inf"), float("inf")]
        for n in sizes:
            t = times[n, f"{build.key} json"].median
            r = [t / times[n, "curl"].median, times[n, "Python SDK"].median / t, times[n, "Node SDK"].median / t]
            rows.append([f"{n:,}", build.label, f"{r[0]:.2f}", f"{r[1]:.1f}", f"{r[2]:.1f}"])
            worst = [max(worst[0], r[0]), min(worst[1], r[1]), min(worst[2], r[2])]
        s.goal(f"load within 1.5× of curl, {build.label} (worst size)", f"{worst[0]:.2f}×", worst[0] <= 1.5)
        s.goal(f"load at least 10× faster than the Python SDK, {build.label}", f"{worst[1]:.1f}×", worst[1] >= 10)
        s.goal(f"load at least 5× faster than the Node SDK, {build.label}", f"{worst[2]:.1f}×", worst[2] >= 5)
        if 200 in sizes:
            r200 = times[200, f"{build.key} json"].median / times[200, "curl"].median
            s.goal(f"load of 200 variables within 0.3× of curl, {build.label}", f"{r200:.2f}×", r200 <= 0.3)
    s.table(["variables", "escort build", "escort / curl (≤ 1.5)", "Python SDK / escort (≥ 10)", "Node SDK / escort (≥ 5)"], rows)
    if 10_000 in sizes:
        slowest = max(times[10_000, f"{bu.key} {f}"].median for bu in b.builds for f in ("json", "shell"))
        s.goal("10,000 variables loaded and exported in under 150 ms (slowest build and format)", f"{ms(slowest)} ms", slowest < 0.150)
    names = list(dict.fromkeys(k[1] for k in times))
    s.say("Median wall time in ms ± standard deviation (for curl, the shell's start-up subtracted); 0 variables is the",
          "fixed cost of a load (process start, the two requests; no root certificate is read over http):")
    s.table(["variables", *names], [[f"{n:,}", *(f"{ms(times[n, c].median)} ± {ms(times[n, c].stddev)}" if (n, c) in times else "–" for c in names)] for n in [0, *sizes]])
    return s


def instructions(cmd, env):
    """Instructions a command executes, all threads (valgrind's cachegrind)."""
    out = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *cmd],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    m = re.search(rb"I\s+refs:\s+([\d,]+)", out.stderr)
    if out.returncode or not m:
        raise BenchError(f"valgrind {shlex.join(cmd)} failed: {out.stderr.decode(errors='replace')[-400:]}")
    return int(m.group(1).replace(b",", b""))


class TlsFront:
    """TLS on 127.0.0.1 in front of a fake, with a certificate of a throwaway CA made by
    openssl, and a copy of the system's root bundle with that CA added (for SSL_CERT_FILE):
    escort reads as many roots as from the system's bundle and the handshake succeeds."""

    SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")

    def __init__(self, backend):
        import socket
        import ssl
        import threading
        system = next((Path(p) for p in self.SYSTEM_BUNDLES if Path(p).is_file()), None)
        if not shutil.which("openssl") or system is None:
            raise BenchError("TLS front: needs openssl and a system root bundle")
        d = WORK / "tls"
        d.mkdir(parents=True, exist_ok=True)
        ossl = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"]
        run([*ossl, "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"), "-subj", "/CN=escort bench CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
        run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(d / "srv.key"),
             "-out", str(d / "srv.csr"), "-subj", "/CN=127.0.0.1"])
        (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        run(["openssl", "x509", "-req", "-in", str(d / "srv.csr"), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"),
             "-CAcreateserial", "-days", "2", "-extfile", str(d / "ext.cnf"), "-out", str(d / "srv.pem")])
        self.ca = d / "ca.pem"
        self.bundle = d / "bundle.pem"
        self.bundle.write_bytes(system.read_bytes() + b"\n" + (d / "ca.pem").read_bytes())
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(d / "srv.pem", d / "srv.key")
        ctx.set_alpn_protocols(["http/1.1"])
        host, port = backend.removeprefix("http://").rsplit(":", 1)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"https://127.0.0.1:{self.sock.getsockname()[1]}"

        def pipe(a, b):
            try:
                while data := a.recv(65536):
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for x in (a, b):
                    try:
                        x.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        def serve():
            while True:
                try:
                    conn, _ = self.sock.accept()
                except OSError:
                    return
                try:
                    tls = ctx.wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError):
                    conn.close()
                    continue
                back = socket.create_connection((host, int(port)))
                threading.Thread(target=pipe, args=(tls, back), daemon=True).start()
                threading.Thread(target=pipe, args=(back, tls), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()

    def close(self):
        self.sock.close()


def max_rss(cmd, env):
    """Peak resident memory of one run of cmd, in bytes, from GNU time: a child this
    program started itself would count this program's own memory (Linux keeps the high-water
    mark of the address space a child starts from, and exec does not reset it)."""
    out = WORK / "rss.txt"
    run(["/usr/bin/time", "-f", "%M", "-o", str(out), *cmd], env)
    return int(out.read_text().split()[-1]) * 1024  # KiB


def bench_cost(b):
    """load of 10,000 variables: memory against the body, instructions per variable."""
    s = Section("cost of a load: memory and instructions per variable")
    big, small = 10_000, 200
    rnd = random.Random(42)
    envs = {f"acme/bench/n{n}": {"environmentVariables": variables(n, rnd)} for n in (0, small, big)}
    tools = {"GNU time": os.access("/usr/bin/time", os.X_OK), "valgrind": shutil.which("valgrind") is not None}
    formats = ("json",) if b.quick else ("json", "shell")
    mem_rows, instr_rows = [], []
    empty, https = {}, {}  # build -> instructions of a load of an empty environment, http / https
    alloc = {}  # (build key, "count" / "growth") -> figures of that build, for the allocator comparison
    with Fake("esc_server", esc_state(envs)) as esc:
        body = len(response_body(esc.url, f"acme/bench/n{big}"))
        for build in b.builds:
            def load(fmt, n):
                return [str(build.path), "load", "--format", fmt], b.esc_env(esc.url, f"acme/bench/n{n}")
            if tools["GNU time"]:
                rss = {n: statistics.median(max_rss(*load("json", n)) for _ in range(3)) for n in (0, big)}
                growth = rss[big] - rss[0]
                alloc[build.key, "growth"] = growth
                mem_rows.append([build.label, f"{rss[0] / MIB:.1f}", f"{rss[big] / MIB:.1f}", f"{growth / MIB:.1f}", f"{body / MIB:.2f}", f"{growth / body:.2f}"])
                s.goal(f"load of {big:,} variables: peak memory growth at most 3× the body, {build.label}", f"{growth / body:.2f}×", growth <= 3 * body)
                print(f"  cost: {build.label}: memory growth {growth / MIB:.1f} MiB for a {body / MIB:.2f} MiB body", flush=True)
            for fmt in formats if tools["valgrind"] else ():
                count = {n: instructions(*load(fmt, n)) for n in (0, small, big)}
                per = {n: (count[n] - count[0]) / n for n in (small, big)}
                ratio = per[big] / per[small] if per[small] > 0 else None
                instr_rows.append([f"{build.label}, {fmt}", f"{count[0]:,}", f"{per[small]:,.0f}", f"{per[big]:,.0f}", "n/a" if ratio is None else f"{ratio:.2f}"])
                s.goal(f"load: at most 3,000 instructions per variable at {big:,}, {build.label}, {fmt}", f"{per[big]:,.0f}", per[big] <= 3000)
                s.goal(f"load: cost per variable from {small} to {big:,} within 2×, {build.label}, {fmt}",
                       "n/a" if ratio is None else f"{ratio:.2f}×", ratio is not None and 0.5 <= ratio <= 2)
                print(f"  cost: {build.label}, {fmt}: {per[big]:,.0f} instructions per variable", flush=True)
                if fmt == "json":
                    alloc[build.key, "count"] = count
                    empty[build.label] = count[0]
                    s.goal(f"load of an empty environment on loopback: at most 4 M instructions, {build.label}", f"{count[0] / 1e6:.2f} M", count[0] <= 4_000_000)
        if b.variant and tools["valgrind"] and tools["GNU time"]:
            def variant(n):
                return [str(b.variant), "load", "--format", "json"], b.esc_env(esc.url, f"acme/bench/n{n}")
            alloc["crate", "count"] = {n: instructions(*variant(n)) for n in (0, small, big)}
            rss = {n: statistics.median(max_rss(*variant(n)) for _ in range(3)) for n in (0, big)}
            alloc["crate", "growth"] = rss[big] - rss[0]
        if tools["valgrind"]:
            try:
                front = TlsFront(esc.url)
            except BenchError as e:
                print(f"  cost: no https figure: {e}", flush=True)
            else:
                try:
                    for build in b.builds:
                        https[build.label] = [instructions([str(build.path), "load", "--format", "json"],
                                                           b.esc_env(front.url, "acme/bench/n0", SSL_CERT_FILE=bundle))
                                              for bundle in (front.bundle, front.ca)]
                finally:
                    front.close()
    for tool in (t for t, there in tools.items() if not there):
        s.goal(f"load: {'memory' if tool == 'GNU time' else 'instructions'} per variable", f"{tool} missing", None)
    if mem_rows:
        s.say(f"Peak resident memory (GNU time's maximum resident set size, median of 3) of `escort load --format",
              f"json` on {big:,} variables, over the same command on an empty environment, against the size of",
              "the read response's body (goal: growth at most 3× the body):")
        s.table(["build", "empty (MiB)", f"{big:,} variables (MiB)", "growth (MiB)", "body (MiB)", "growth / body (≤ 3)"], mem_rows)
    if instr_rows:
        s.say("Instructions escort executes (valgrind's cachegrind, all threads; repeatable run to run). The",
              "cost per variable at n is (cost(n) − cost(0)) / n, so the fixed cost (start-up, the",
              f"two requests) cannot hide superlinear growth; the ratio is that cost at {big:,} over that at {small}",
              "(1.00: exactly linear). Goals: at most 3,000 per variable, ratio within 2×.")
        s.table(["command", "instructions, empty", f"per variable at {small}", f"per variable at {big:,}", "ratio"], instr_rows)
    if ("crate", "count") in alloc and ("escort", "count") in alloc:
        rows = []
        for key, label in (("escort", "src/alloc.rs over libmimalloc-sys (escort's)"), ("crate", "the `mimalloc` crate's `MiMalloc`")):
            count = alloc[key, "count"]
            rows.append([label, f"{count[0]:,}", f"{(count[big] - count[0]) / big:,.0f}", f"{alloc[key, 'growth'] / MIB:.1f}"])
        ours, theirs = ((alloc[k, "count"][big] - alloc[k, "count"][0]) / big for k in ("escort", "crate"))
        s.say("The allocator: the same `cargo build --release` with the `mimalloc` crate's allocator in place of",
              "src/alloc.rs (`--features bench-mimalloc-crate`), on the same loads (json). src/alloc.rs calls",
              "mimalloc's plain entry points when a word's alignment is enough; the crate calls the aligned ones",
              "for every allocation. It is kept only while it costs fewer instructions than the crate.")
        s.table(["allocator", "instructions, empty", f"per variable at {big:,}", f"memory growth at {big:,} (MiB)"], rows)
        s.goal(f"src/alloc.rs: fewer instructions per variable at {big:,} than the `mimalloc` crate (else use the crate)",
               f"{ours:,.0f} against {theirs:,.0f} ({(ours - theirs) / theirs:+.1%})", ours < theirs)
    if https:
        s.say("The fixed cost (instructions) of a load of an empty environment over plain HTTP on loopback (no",
              "root certificate is read) and over https (TLS on loopback in front of the same fake), with",
              "SSL_CERT_FILE a copy of the system's root bundle plus the test CA (as many roots as the system's),",
              "and with the test CA alone. The first https connection costs the handshake (the second figure)",
              "and reading the roots (the difference between the two).")
        s.table(["build", "http (loopback)", "https, system's roots", "https, one root", "first https connection", "of which the roots"],
                [[label, f"{empty[label]:,}", f"{full:,}", f"{one:,}", f"{full - empty[label]:,}", f"{full - one:,}"]
                 for label, (full, one) in https.items() if label in empty])
    return s


def bench_startup(b):
    """Start-up of `--version` next to curl's; sizes; the static build's checks."""
    s = Section("start-up and size")
    rows = []
    for build in b.builds:
        t = b.timer.time([str(build.path), "--version"])
        size = build.path.stat().st_size
        rows.append([build.label, ms(t.median), f"{size:,}", f"{size / 1e6:.2f}"])
        if build.key == "static":
            s.goal("stripped static release binary under 6 MB (6,000,000 bytes)", f"{size / 1e6:.2f} MB", size < 6_000_000)
            s.goal("`scripts/check-release.sh`: size budget, and `file` says static", b.static_check, b.static_check == "passed")
    if shutil.which("curl"):
        rows.append(["curl (for comparison)", ms(b.timer.time(["curl", "--version"]).median), "", ""])
    s.table(["binary", "start-up, `--version` (ms)", "size (bytes)", "size (MB)"], rows)
    return s


def redaction_cases(rnd):
    """(name, ESC values, the texts the data carries, bytes of data between two of them)."""
    blob = base64.b64encode(rnd.randbytes(48 * 1024)).decode()  # 64 KiB, one line
    pem_body = base64.encodebytes(rnd.randbytes(2900)).decode()  # 64-character lines
    pem = f"-----BEGIN PRIVATE KEY-----\n{pem_body}-----END PRIVATE KEY-----\n"
    many = variables(1000, rnd, secret_every=1)
    return [
        ("one 64 KB file secret", {"files": {"BUNDLE": {"fn::secret": blob}}}, [blob], 4 * MIB),
        ("a 4 KB PEM", {"environmentVariables": {"TLS_KEY": {"fn::secret": pem}}}, [pem], MIB),
        ("1,000 secrets", {"environmentVariables": many}, [v["fn::secret"] for v in many.values()], 4096),
    ]


def log_data(rnd, size, texts, every):
    """About `size` bytes of base64 log lines with one of `texts` after every `every` bytes,
    and where each of those ends."""
    filler = base64.encodebytes(rnd.randbytes(size * 3 // 4))
    out, ends = bytearray(), []
    for i, pos in enumerate(range(0, len(filler), every)):
        out += filler[pos:pos + every]
        out += b"value=" + texts[i % len(texts)].encode() + b"\n"
        ends.append(len(out))
    return bytes(out), ends


def throughput(b, cmd_for, env, chunk, stream_max):
    """MB/s of cmd_for(k), which streams k copies of a chunk, its start-up (cmd_for(0), an
    empty stream) subtracted; k grows until a run takes about the timer's budget or
    streams stream_max bytes."""
    fixed = statistics.median(b.timer.once(cmd_for(0), env) for _ in range(3))
    first = b.timer.once(cmd_for(1), env)
    k = max(1, min(stream_max // chunk, round(b.timer.budget / max(first, 1e-3))))
    runs = 1 if first * k >= b.timer.cap else 3
    took = statistics.median(b.timer.once(cmd_for(k), env) for _ in range(runs))
    return k * chunk / max(took - fixed, 1e-6) / 1e6


def bench_redaction(b):
    """escort run's redacting relay against cat on the same bytes (goal: 1 GB/s)."""
    s = Section("redaction: `escort run` against `cat`")
    rnd = random.Random(7)
    cases = redaction_cases(rnd)
    chunk = (16 if b.quick else 64) * MIB
    stream_max = 1024 * MIB
    rows = []
    with Fake("esc_server", esc_state({f"acme/bench/redact{i}": c[1] for i, c in enumerate(cases)})) as esc:
        for i, (name, _, texts, every) in enumerate(cases):
            data = WORK / f"redact{i}.log"
            content, ends = log_data(rnd, chunk, texts, every)
            data.write_bytes(content)
            size = data.stat().st_size
            env = b.esc_env(esc.url, f"acme/bench/redact{i}")
            # Sanity: what comes out holds no secret and a *** where each was.
            sample = WORK / f"redact{i}.sample"
            sample.write_bytes(content[:ends[3]])
            shown = run([str(b.escort), "run", "--", "cat", str(sample)], env)
            parts = {p for t in texts for p in [t.strip(), *t.splitlines()] if len(p) >= 3}
            if any(p.encode() in shown for p in parts) or shown.count(b"***") < 4:
                raise BenchError(f"escort run did not redact the data of '{name}'")

            rate = {}
            for label, prefix in (("cat", ["cat"]), ("pipe relay", ["sh", "-c", 'cat "$@" | cat > /dev/null', "sh"]),
                                  ("escort run", [str(b.escort), "run", "--", "cat"])):
                rate[label] = throughput(b, lambda k, prefix=prefix: [*prefix, *[str(data)] * k], env, size, stream_max)
            ratio = rate["escort run"] / rate["cat"]
            rows.append([name, *(f"{r:,.0f}" for r in rate.values()), f"{ratio:.3f}"])
            s.goal(f"`escort run` redacts at least 1 GB/s, {name}", f"{rate['escort run']:,.0f} MB/s ({ratio:.3f}× cat)", rate["escort run"] >= 1000)
            print(f"  redaction, {name}: {rate['escort run']:,.0f} MB/s, cat {rate['cat']:,.0f} MB/s", flush=True)
    s.say("`escort run -- cat FILE...` against `cat FILE...` on the same data, output to /dev/null. The pipe",
          "relay, `cat FILE... | cat`, is the floor for any program that relays a child's output. The data:",
          f"base64 log lines ({chunk // MIB} MiB, streamed up to {stream_max // MIB} MiB per run) with a secret every",
          "few KB (a random one of the 1,000) to few MB (the 64 KB one). Each command's start-up (the same",
          "command on an empty stream) is subtracted. MB/s = 10⁶ bytes per second; goal: at least 1,000.")
    s.table(["secrets", "cat MB/s", "pipe relay MB/s", "escort run MB/s", "escort run / cat"], rows)
    return s


def bench_dotenv(b):
    """The .env reader on one 20 MiB value in each form a .env file writes it (goal: under 0.2 s
    each), through `escort check`."""
    s = Section("the .env reader: one 20 MiB value")
    rnd = random.Random(9)
    manifest = WORK / "dotenv.toml"
    manifest.write_text("[secrets.BIG]\ndescription = \"one large value\"\n")
    value = base64.b64encode(rnd.randbytes(15 * MIB)).decode()
    pem = "\n".join(["-----BEGIN PRIVATE KEY-----", *(value[i:i + 64] for i in range(0, len(value), 64)), "-----END PRIVATE KEY-----"])
    forms = {"single-quoted": f"'{value}'", "double-quoted": f'"{value}"', "unquoted": value,
             "multi-line double-quoted PEM": f'"{pem}"'}
    files = {}
    for name, text in (*forms.items(), ("32-byte value", "'" + "x" * 32 + "'")):
        files[name] = WORK / f"dotenv-{name.split()[0]}.env"
        files[name].write_text(f"# a .env file\nFIRST=1\nBIG={text}\nLAST=2\n")

    def check(name):
        return [str(b.escort), "check", "--manifest", str(manifest), "--sources", f"dotenv:{files[name]}", "--format", "json"]
    # A smoke run does not wait for a reader that is far off the goal (the quadratic one took 8 s
    # to a minute): it says so and goes on.
    limit = 10 if b.quick else None
    t, rows = {}, []
    for name in files:
        start = time.perf_counter()
        try:
            report = json.loads(run(check(name), timeout=limit))
        except subprocess.TimeoutExpired:
            t[name] = None
            continue
        first = time.perf_counter() - start
        if [x["status"] for x in report["secrets"]] != ["ok"] or report["sources"][0]["status"] != "ok":
            raise BenchError(f"escort check did not read BIG ({name}) from the .env file: {report['sources']}")
        t[name] = b.timer.time(check(name), min_runs=3, first=first).median
    # Instructions too: wall times of a 0.2 s command move with the machine's load, these do not.
    counts = {name: instructions(check(name), base_env()) for name in files if t[name] is not None} if shutil.which("valgrind") else {}
    cat = b.timer.time(["cat", str(files["single-quoted"])]).median
    small = t["32-byte value"]
    for name in forms:
        size = files[name].stat().st_size
        if t[name] is None:
            rows.append([name, f"{size:,}", f"over {limit} s", "", "–"])
            s.goal(f"a .env file with one 20 MiB value, {name}, read in under 0.2 s (the whole `escort check`)", f"over {limit} s", False)
            continue
        rows.append([name, f"{size:,}", ms(t[name]), mbps(size, t[name] - small), f"{counts[name] / 1e6:,.0f} M" if name in counts else "–"])
        s.goal(f"a .env file with one 20 MiB value, {name}, read in under 0.2 s (the whole `escort check`)",
               f"{ms(t[name])} ms ({t[name] / max(cat, 1e-6):,.0f}× cat)", t[name] < 0.2)
        print(f"  dotenv: {name}: check {ms(t[name])} ms", flush=True)
    rows += [["32-byte value", "", ms(small), "", f"{counts['32-byte value'] / 1e6:,.0f} M" if counts else "–"],
             ["cat FILE (single-quoted)", f"{files['single-quoted'].stat().st_size:,}", ms(cat), "", ""]]
    s.say("`escort check --sources dotenv:FILE` on a manifest of one secret, where FILE holds it as one",
          "value of 20 MiB (base64 text) written single-quoted, double-quoted, unquoted, and as a PEM in",
          "double quotes (64-character lines), against the same on a 32-byte value (the rest of the check)",
          "and `cat FILE` (reading the bytes). Goal: the whole check under 0.2 s for each form. Instructions:",
          "valgrind's count for the whole check, which the machine's load does not move.")
    s.table(["value", "file (bytes)", "median (ms)", "MB/s (reader alone)", "instructions"], rows)
    return s


def check_inputs(n):
    """A manifest of n secrets with every rule kind; the fake ESC's values; a .env file with
    a third of them; the process environment with half (a quarter of those different)."""
    rnd = random.Random(7)

    def value(i):
        return [None, None, None, f"https://svc{i}.example.com/api", rnd.choice(["debug", "info", "warn"])][i % 5] \
            or "sk-" + "".join(rnd.choice(ALNUM) for _ in range(32))
    rules = ['prefix = "sk-"', 'pattern = "sk-[A-Za-z0-9]{32}|legacy-%d"', "min_length = 20", "url = true",
             'values = ["debug", "info", "warn"]']
    groups = [("api-keys", 90), ("database-credentials", 180), ("security-tokens", 365)]
    names = [f"SECRET_{i:05d}" for i in range(n)]
    values = {k: value(i) for i, k in enumerate(names)}
    manifest = ['sources = ["esc", "env", "dotenv:%s"]' % (WORK / "check.env")]
    manifest += [f"[groups.{g}]\nrotate_days = {days}" for g, days in groups]
    for i, k in enumerate(names):
        rule = rules[i % 5] % i if "%d" in rules[i % 5] else rules[i % 5]
        manifest.append(f'[secrets.{k}]\ngroup = "{groups[i % 3][0]}"\ndescription = "secret number {i}"\n{rule}')
    manifest.append("[one_of.any]\nkeys = [%s]" % ", ".join(f'"{k}"' for k in names[:10]))
    (WORK / "check.toml").write_text("\n".join(manifest) + "\n")
    (WORK / "check.env").write_text("".join(f"{k}='{values[k]}'\n" for i, k in enumerate(names) if i % 3 == 0))
    esc = {k: ({"fn::secret": v} if i % 2 else v) for i, (k, v) in enumerate(values.items())}
    env = {k: values[k] if i % 4 else values[k] + "x" for i, k in enumerate(names) if i % 2 == 0}
    return {"environmentVariables": esc}, env


def bench_check(b):
    """escort check of 1,000 secrets, beyond the ESC round trip (goal: under 50 ms)."""
    s = Section("check: 1,000 secrets from ESC, env and .env")
    n, ref = 1000, "acme/bench/check"
    values, extra = check_inputs(n)
    manifest = WORK / "check.toml"
    with Fake("esc_server", esc_state({ref: values})) as esc:
        env = b.esc_env(esc.url, ref, **extra)
        report = json.loads(run([str(b.escort), "check", "--manifest", str(manifest), "--format", "json"], env))
        if [x["status"] for x in report["sources"]] != ["ok"] * 3 or len(report["secrets"]) != n \
                or any(x["status"] != "ok" for x in report["secrets"]):
            raise BenchError("escort check did not pass on the benchmark's inputs")
        t = {"check": b.timer.time([str(b.escort), "check", "--manifest", str(manifest)], env).median,
             "round trip": b.timer.time(curl_load(esc.url, ref)).median,
             # Without ESC many secrets are missing: exit 1 is expected, hence `|| true`.
             "local": b.timer.time(f"{shlex.quote(str(b.escort))} check --manifest {shlex.quote(str(manifest))} "
                                   f"--sources env,dotenv:{shlex.quote(str(WORK / 'check.env'))} > /dev/null || true", env).median}
    beyond = t["check"] - t["round trip"]
    s.say(f"`escort check` of a manifest of {n:,} secrets (every rule kind, 200 distinct patterns, a `one_of`)",
          "whose values come from the fake ESC, the environment and a .env file, against curl making the",
          "same two ESC requests; the difference is what the check costs beyond the round trip (goal:",
          "under 50 ms).")
    s.table(["command", "median (ms)"], [["escort check", ms(t["check"])], ["ESC round trip (curl)", ms(t["round trip"])],
                                         ["beyond the round trip", ms(beyond)],
                                         ["without ESC (env + .env only; the whole process)", ms(t["local"])]])
    s.goal(f"`escort check` of {n:,} secrets beyond the ESC round trip under 50 ms", f"{ms(beyond)} ms ({t['check'] / t['round trip']:.2f}× curl)", beyond < 0.050)
    print(f"  check: {ms(t['check'])} ms, round trip {ms(t['round trip'])} ms", flush=True)
    return s


def github(state):
    """The fake GitHub with this state (repositories, secrets, latency_ms) and the bench's token."""
    return Fake("github_server", {"token": GITHUB_TOKEN, **state})


def timed_sync(b, gh, *args):
    """(seconds, requests made) of one `escort sync ARGS` against the fake GitHub gh."""
    # The fake has no secondary rate limits: unpaced, the bench measures escort, not the
    # 80-writes-a-minute pacing real GitHub needs (docs/configuration.md).
    env = base_env(GITHUB_TOKEN=GITHUB_TOKEN, GITHUB_API_URL=gh.url, ESCORT_GITHUB_WRITES_PER_MINUTE="0")
    before = gh.get("/_fake/stats")["requests"]
    start = time.perf_counter()
    run([str(b.escort), "--quiet", "sync", *args], env)
    took = time.perf_counter() - start
    return took, gh.get("/_fake/stats")["requests"] - before


def bench_sync(b):
    """escort sync of 200 secrets with 50 ms per request, against the serial bound (≥ 3×)."""
    s = Section("sync: 200 secrets to GitHub at 50 ms per request")
    n, latency = 200, 50
    rnd = random.Random(7)
    source = WORK / "sync.env"
    source.write_text("".join(f"SECRET_{i:04d}='{''.join(rnd.choice(ALNUM) for _ in range(40))}'\n" for i in range(n)))
    state = {"orgs": ["acme"], "repos": {"acme/app": {"id": 1}}, "latency_ms": latency}  # each run on a fresh one
    args = ["--from", f"dotenv:{source}", "--to", "github:acme/app"]
    rows = []
    if not b.quick:
        with github(state) as gh:
            took, requests = timed_sync(b, gh, *args, "--concurrency", "1")
        rows.append(["--concurrency 1", f"{took:.2f}", requests])
    with github(state) as gh:
        took, requests = timed_sync(b, gh, *args)
    bound = requests * latency / 1000
    rows.append(["default concurrency", f"{took:.2f}", requests])
    rows.insert(0, ["serial lower bound (requests × latency)", f"{bound:.2f}", requests])
    s.say(f"`escort sync` of {n} secrets from a .env file to a repository of the fake GitHub, which waits",
          f"{latency} ms before answering each request. The serial bound is what any client sending one request",
          "at a time needs at least (goal: the default concurrency at least 3× faster).")
    s.table(["run", "wall time (s)", "requests"], rows)
    s.goal(f"sync of {n} secrets at least 3× faster than the serial bound", f"{bound / took:.2f}×", bound / took >= 3)
    print(f"  sync: {took:.2f} s for {requests} requests (bound {bound:.2f} s)", flush=True)
    return s


def bench_noop_sync(b):
    """A route of 200 keys to 5 repositories at 50 ms per request: a sync with nothing changed
    against the same with --force (every copy rewritten, as every sync did before routes)."""
    s = Section("no-op sync: a route of 200 keys to 5 repositories at 50 ms per request")
    n, repos, latency = 200, 5, 50
    rnd = random.Random(11)
    source = WORK / "route.env"
    source.write_text("".join(f"KEY_{i:04d}='{''.join(rnd.choice(ALNUM) for _ in range(40))}'\n" for i in range(n)))
    # Changed a day ago: every copy written now is after it.
    day_ago = time.time() - 86400
    os.utime(source, (day_ago, day_ago))
    names = [f"app{i}" for i in range(repos)]
    manifest = WORK / "route.toml"
    targets = ", ".join(f'"github:acme/{r}"' for r in names)
    manifest.write_text(f'[sync.bench]\nfrom = "dotenv:{source}"\nto = [{targets}]\n')
    state = {"orgs": ["acme"], "repos": {f"acme/{r}": {"id": i + 1} for i, r in enumerate(names)},
             "latency_ms": latency}
    args = ["--manifest", str(manifest)]
    with github(state) as gh:
        timed_sync(b, gh, *args)  # the first sync writes every copy
        noop, noop_requests = timed_sync(b, gh, *args)
        forced, forced_requests = timed_sync(b, gh, *args, "--force")
    s.say(f"`escort sync` of one route ({n} keys from a .env file to {repos} repositories of the fake GitHub,",
          f"which waits {latency} ms before answering each request), after a first sync wrote every copy:",
          "again with nothing changed, and with `--force` (what every sync did before it compared copies).")
    s.table(["run", "wall time (s)", "requests"],
            [["nothing changed", f"{noop:.2f}", noop_requests], ["--force", f"{forced:.2f}", forced_requests]])
    fewer, faster = forced_requests / max(noop_requests, 1), forced / noop
    s.goal("no-op sync: at least 20× fewer requests than --force", f"{fewer:.1f}×", fewer >= 20)
    s.goal("no-op sync: at least 10× faster than --force", f"{faster:.1f}×", faster >= 10)
    print(f"  no-op sync: {noop:.2f} s / {noop_requests} requests; --force {forced:.2f} s / {forced_requests}", flush=True)
    return s


def bench_ledger_status(b):
    """status of a route of 200 keys from ESC to 5 repositories at 50 ms per request: with a
    ledger (no revision walk once every copy is recorded) against dates from the revision walk."""
    s = Section("ledger status: a route of 200 keys to 5 repositories at 50 ms per request")
    n, repos, latency, history = 200, 5, 50, 20
    rnd = random.Random(13)
    # Half secrets, half plain: GitHub holds at most 100 secrets per repository (the plain half
    # become Actions variables, compared by value).
    value = lambda i: "".join(rnd.choice(ALNUM) for _ in range(40))
    keys = {f"KEY_{i:04d}": {"fn::secret": value(i)} if i % 2 else value(i) for i in range(n)}
    # KEY_0000 (plain) changes in every revision: the walk pages through all of them for the others.
    revisions = [{"values": {"environmentVariables": {**keys, "KEY_0000": f"v{r}"}}} for r in range(history)]
    esc_st = {"token": ESC_TOKEN, "default_org": "acme", "faults": [{"op": "any", "status": None, "delay_ms": latency, "times": -1}],
              "environments": {"acme/app/prod": {**revisions[-1], "history": revisions[:-1]}}}
    names = [f"app{i}" for i in range(repos)]
    gh_st = {"orgs": ["acme"], "repos": {f"acme/{r}": {"id": i + 1} for i, r in enumerate(names)}, "latency_ms": latency}
    targets = ", ".join(f'"github:acme/{r}"' for r in names)
    route = f'[sync.bench]\nfrom = "esc:acme/app/prod"\nto = [{targets}]\n'
    rows = []
    for label, ledger in [("dates from the revision walk", ""), ("with a ledger", 'ledger = "esc:acme/ops/ledger"\n')]:
        manifest = WORK / "ledger-route.toml"
        manifest.write_text(ledger + route)
        with Fake("esc_server", esc_st) as esc, github(gh_st) as gh:
            env = base_env(GITHUB_TOKEN=GITHUB_TOKEN, GITHUB_API_URL=gh.url, ESC_API_URL=esc.url, ESC_TOKEN=ESC_TOKEN,
                           ESCORT_GITHUB_WRITES_PER_MINUTE="0")
            run([str(b.escort), "--quiet", "sync", "--manifest", str(manifest)], env, what="the first sync")
            esc_before, gh_before = len(esc.get("/_fake/requests")), gh.get("/_fake/stats")["requests"]
            start = time.perf_counter()
            run([str(b.escort), "status", "--manifest", str(manifest)], env, what="status")
            took = time.perf_counter() - start
            esc_n, gh_n = len(esc.get("/_fake/requests")) - esc_before, gh.get("/_fake/stats")["requests"] - gh_before
        rows.append([label, f"{took:.2f}", esc_n, gh_n])
    (walk, w_esc, w_gh), (led, l_esc, l_gh) = [(float(r[1]), r[2], r[3]) for r in rows]
    s.say(f"`escort status` of one route ({n} keys from an ESC environment of {history} revisions to {repos}",
          f"repositories of the fake GitHub; both fakes wait {latency} ms before each answer), after a first sync:",
          "sealed copies dated by walking the source's revisions, and judged by the ledger instead.")
    s.table(["run", "wall time (s)", "ESC requests", "GitHub requests"], rows)
    fewer, faster = (w_esc + w_gh) / max(l_esc + l_gh, 1), walk / led
    s.goal("ledger status: no revision walk (ESC requests: the source's open and the ledger's)", f"{l_esc} ESC requests", l_esc <= 6)
    s.goal("ledger status: fewer requests than the walk", f"{fewer:.1f}×", fewer > 1)
    s.goal("ledger status: faster than the walk", f"{faster:.1f}×", faster > 1)
    print(f"  ledger status: {led:.2f} s / {l_esc}+{l_gh} requests; walk {walk:.2f} s / {w_esc}+{w_gh}", flush=True)
    return s


# Each runs on its own and returns its section; `--only` picks them by name.
BENCHMARKS = {
    "load": bench_load,
    "cost": bench_cost,
    "startup": bench_startup,
    "redaction": bench_redaction,
    "dotenv": bench_dotenv,
    "check": bench_check,
    "sync": bench_sync,
    "noop-sync": bench_noop_sync,
    "ledger-status": bench_ledger_status,
}


# --- builds, the machine, the document -------------------------------------------------------


def prepare(args, b):
    """Builds (unless --no-build) and finds the binaries; the peers."""
    run(["bash", str(ROOT / "scripts" / "setup-peers.sh")], os.environ, what="scripts/setup-peers.sh")
    if not args.no_build:
        print("bench: cargo build --release", flush=True)
        run(["cargo", "build", "--release", "--locked", "--quiet"], os.environ, what="cargo build --release")
    glibc = ROOT / "target" / "release" / "escort"
    if not glibc.exists():
        raise BenchError(f"{glibc} not found (build it, or leave out --no-build)")
    b.builds.append(Build("escort", "`cargo build --release`", glibc))
    # The allocator comparison's build (bench_cost): built for a published run, else used if there.
    variant_dir = ROOT / "target" / "bench-alloc"
    if args.publish and not args.no_build and "cost" in args.only:
        print("bench: cargo build --release --features bench-mimalloc-crate (the allocator comparison)", flush=True)
        run(["cargo", "build", "--release", "--locked", "--quiet", "--features", "bench-mimalloc-crate",
             "--target-dir", str(variant_dir)], os.environ, what="cargo build --features bench-mimalloc-crate")
    if (variant_dir / "release" / "escort").exists():
        b.variant = variant_dir / "release" / "escort"
    triple = {"x86_64": "x86_64-unknown-linux-musl", "aarch64": "aarch64-unknown-linux-musl"}.get(platform.machine())
    if platform.system() != "Linux" or not triple:
        return
    static = ROOT / "target" / "release-musl" / triple / "release" / "escort"
    if args.publish and not args.no_build:
        print("bench: scripts/build-release.sh (the static binary; minutes on 2 cores)", flush=True)
        check = subprocess.run(["bash", str(ROOT / "scripts" / "build-release.sh")], capture_output=True)
    elif static.exists():
        check = subprocess.run(["bash", str(ROOT / "scripts" / "check-release.sh"), "--static", str(static)], capture_output=True)
    else:
        return
    b.static_check = "passed" if check.returncode == 0 else "FAILED"
    if static.exists():
        b.builds.append(Build("static", f"static release binary ({triple})", static))


def text_of(cmd, default="unknown"):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip() or default
    except OSError:
        return default


def machine(b):
    """The lines that say where and with what the figures were measured."""
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    mem = next((int(l.split()[1]) / 1048576 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    osname = next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if l.startswith("PRETTY_NAME")), platform.system())
    rev = text_of(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    if text_of(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock"], ""):
        rev += " plus uncommitted changes to src/ or Cargo.*"
    py_sdk = text_of([str(PEER_PY), "-c", "import sys, importlib.metadata as m; print('pulumi-esc-sdk', m.version('pulumi-esc-sdk'), 'on Python', sys.version.split()[0])"])
    node_sdk = text_of(["node", "-e", f"const p = require({json.dumps(str(PEERS / 'node_modules/@pulumi/esc-sdk/package.json'))}); console.log('@pulumi/esc-sdk ' + p.version + ' on Node.js ' + process.versions.node)"])
    return [
        f"- **Date**: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; escort revision {rev}",
        f"- **Machine**: {os.cpu_count()} CPUs ({cpu}), {mem:.1f} GiB memory; {osname}, {platform.system()} {platform.release()}",
        f"- **Versions**: {text_of([str(b.escort), '--version'])}, {text_of(['rustc', '-V'])}; {' '.join(text_of(['curl', '--version']).split()[:2])}; "
        f"{py_sdk}; {node_sdk}; {text_of(['valgrind', '--version'], 'no valgrind')}; this program on Python {platform.python_version()}",
    ]


def document(header, sections, quick):
    lines = ["# Benchmarks", "",
             "Written by `scripts/bench.py --publish`: do not edit by hand. escort against references doing the",
             "same work on the same data (curl, the official ESC SDKs, `cat`, the serial bound), all on the",
             "loopback fakes of `tests/fakes/`. The goals come from the README and the project's issues.", "",
             *header, "- **Method**: median wall times of repeated runs, "
             + ("a quick run (`--quick`): fewer sizes, runs and bytes" if quick else "at least 30 runs and about 3 s of each fast command, fewer of the slow ones"), "",
             "## Goals", "", "| goal | measured | |", "|---|---:|---|"]
    lines += [f"| {g.goal} | {g.measured} | {verdict(g.ok)} |" for s in sections for g in s.goals]
    for s in sections:
        lines += ["", f"## {s.title[0].upper()}{s.title[1:]}", "", *s.lines[:-1]]
    lines.append("")
    lines += ["## Reproduce", "", "```sh",
              "scripts/bench.py --publish   # both builds, every benchmark; rewrites this file",
              "scripts/bench.py --quick     # a smoke run of everything, printed only (about two minutes)",
              "scripts/bench.py --only redaction,dotenv --no-build",
              "```", "",
              "Absolute times depend on the machine and on what else it was doing (the load average above);",
              "the ratios compare commands timed in the same run and move much less.", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("Usage:")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a smoke run: fewer sizes, runs and bytes")
    ap.add_argument("--publish", action="store_true", help="build the static binary too and rewrite docs/benchmarks.md")
    ap.add_argument("--no-build", action="store_true", help="use the binaries as they are")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    ap.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS))
    args = ap.parse_args()
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    if unknown := [x for x in only if x not in BENCHMARKS]:
        ap.error(f"unknown benchmark {', '.join(unknown)}; there are {', '.join(BENCHMARKS)}")

    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    b = Bench(args)
    try:
        prepare(args, b)
    except BenchError as e:
        sys.exit(f"bench: error: {e}")
    b.timer = Timer(args.quick)
    load_before = " ".join(open("/proc/loadavg").read().split()[:3])
    sections, failed = [], False
    for name in only:
        print(f"bench: {name}", flush=True)
        try:
            sections.append(BENCHMARKS[name](b))
        except BenchError as e:
            failed = True
            print(f"bench: {name} failed: {e}", file=sys.stderr)
            sections.append(Section(name, [f"Failed to run: {e}", ""], [Goal(f"the {name} benchmark ran", "failed", False)]))
    load_after = " ".join(open("/proc/loadavg").read().split()[:3])
    header = [*machine(b), f"- **Load average** (1, 5, 15 min) before the run: {load_before}; after: {load_after};"
              f" the run took {time.monotonic() - started:.0f} s"]
    text = document(header, sections, args.quick)
    print("\n" + text)
    if args.publish:
        tmp = DOC.with_suffix(".md.tmp")
        tmp.write_text(text)
        tmp.replace(DOC)
        print(f"bench: wrote {DOC.relative_to(ROOT)}")
    missed = any(g.ok is False for s in sections for g in s.goals)
    sys.exit(1 if failed or (args.strict and missed) else 0)


if __name__ == "__main__":
    main()
