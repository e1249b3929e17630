#!/usr/bin/env python3
"""Which environment variables the official Python ESC SDK (pulumi-esc-sdk) sees as secret.

Usage: sdk_secret_names.py URL TOKEN ORG/PROJECT/ENV
Prints a JSON list of the names under properties.environmentVariables whose Value is
`secret: true`, sorted. Run it with the peers venv (scripts/setup-peers.sh).
"""
import json
import sys

import pulumi_esc_sdk as esc


def main():
    url, token, ref = sys.argv[1:4]
    org, project, env = ref.split("/")
    client = esc.EscClient(esc.Configuration(host=url, access_token=token))
    environment, _, _ = client.open_and_read_environment(org, project, env)
    variables = environment.properties["environmentVariables"].value
    print(json.dumps(sorted(k for k, v in variables.items() if v.get("secret"))))


if __name__ == "__main__":
    main()
