#!/usr/bin/env python3
"""Open and read an ESC environment with the official Python SDK (pulumi-esc-sdk).

Usage: esc_sdk_read.py [--count-only] URL TOKEN ORG/PROJECT/ENV[@VERSION]

URL is the API base (e.g. http://127.0.0.1:PORT); the SDK's EscClient appends /api/esc.
Prints one JSON object {NAME: value} for properties.environmentVariables, the way
`escort load --format json` does (null entries are skipped, as escort does; files are not
included): strings as they are, bools as "true"/"false",
numbers as their JSON text, objects and arrays as compact JSON of plain values.
With --count-only, just opens, reads and prints the number of variables.
Run it with the peers venv (scripts/setup-peers.sh).
"""
import argparse
import json
import sys

import pulumi_esc_sdk as esc


def plain(v):
    """A nested Value ({value, secret?, unknown?, trace}) -> its plain value."""
    inner = v.get("value") if isinstance(v, dict) else None
    if isinstance(inner, list):
        return [plain(x) for x in inner]
    if isinstance(inner, dict):
        return {k: plain(x) for k, x in inner.items()}
    return inner


def as_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count-only", action="store_true")
    ap.add_argument("url")
    ap.add_argument("token")
    ap.add_argument("env", help="ORG/PROJECT/ENV[@VERSION]")
    a = ap.parse_args()

    ref, _, version = a.env.partition("@")
    parts = ref.split("/")
    if len(parts) != 3:
        ap.error("environment must be ORG/PROJECT/ENV[@VERSION]")
    org, project, env = parts

    client = esc.EscClient(esc.Configuration(host=a.url, access_token=a.token))
    if version:
        environment, _, _ = client.open_and_read_environment_at_version(
            org, project, env, version)
    else:
        environment, _, _ = client.open_and_read_environment(org, project, env)
    # The SDK's own plain `values` unwrap any dict that has a "value" key, so a user object
    # with a key named "value" would be mangled; unwrap the typed Values strictly instead.
    ev = (environment.properties or {}).get("environmentVariables")
    inner = ev.value if ev is not None else None
    variables = {k: plain(x) for k, x in inner.items()} if isinstance(inner, dict) else {}

    if a.count_only:
        print(len(variables))
        return 0
    out = {k: as_text(v) for k, v in variables.items() if v is not None}
    sys.stdout.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except esc.ApiException as e:
        print(f"esc_sdk_read.py: HTTP {e.status}: {e.body}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # a short message, not a traceback
        print(f"esc_sdk_read.py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
