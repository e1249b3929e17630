#!/usr/bin/env node
// Open and read an ESC environment with the official Node SDK (@pulumi/esc-sdk).
//
// Usage: node esc_sdk_read.mjs [--count-only] URL TOKEN ORG/PROJECT/ENV[@VERSION]
//
// Uses the SDK's generated client (@pulumi/esc-sdk/esc/raw): its EscApi wrapper rebuilds the
// base URL from the hostname only, dropping the port, so it cannot reach a loopback fake.
// Prints one JSON object {NAME: value} for properties.environmentVariables, the way
// `escort load --format json` does (null entries are skipped, as escort does; files are not
// included): strings as they are, bools as "true"/"false", numbers as their JSON text,
// objects and arrays as compact JSON of plain values.
// With --count-only, just opens, reads and prints the number of variables.
// Install the SDK with scripts/setup-peers.sh.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Configuration, EscApi } = require("@pulumi/esc-sdk/esc/raw");

function usage(msg) {
  process.stderr.write(`esc_sdk_read.mjs: ${msg}\nusage: esc_sdk_read.mjs [--count-only] URL TOKEN ORG/PROJECT/ENV[@VERSION]\n`);
  process.exit(2);
}

// A Value is {value, secret?, unknown?, trace}; nested values are Values too.
function plain(v) {
  const inner = v === null || v === undefined ? null : v.value;
  if (Array.isArray(inner)) return inner.map(plain);
  if (inner !== null && typeof inner === "object") {
    const out = {};
    for (const [k, x] of Object.entries(inner)) out[k] = plain(x);
    return out;
  }
  return inner === undefined ? null : inner;
}

function asText(v) {
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  return JSON.stringify(v);
}

async function main() {
  const args = process.argv.slice(2);
  const countOnly = args[0] === "--count-only";
  if (countOnly) args.shift();
  if (args.length !== 3) usage("expected URL TOKEN ORG/PROJECT/ENV");
  const [url, token, ref] = args;
  const at = ref.indexOf("@");
  const envRef = at >= 0 ? ref.slice(0, at) : ref;
  const version = at >= 0 ? ref.slice(at + 1) : "";
  const parts = envRef.split("/");
  if (parts.length !== 3) usage("environment must be ORG/PROJECT/ENV[@VERSION]");
  const [org, project, env] = parts;

  const api = new EscApi(new Configuration({ basePath: url.replace(/\/+$/, "") + "/api/esc", accessToken: token }));
  const opened = version
    ? await api.openEnvironmentAtVersion(org, project, env, version)
    : await api.openEnvironment(org, project, env);
  const read = await api.readOpenEnvironment(org, project, env, opened.data.id);
  const props = (read.data && read.data.properties) || {};
  const vars = props.environmentVariables ? plain(props.environmentVariables) || {} : {};

  if (countOnly) {
    process.stdout.write(`${Object.keys(vars).length}\n`);
    return;
  }
  const out = {};
  for (const [k, v] of Object.entries(vars)) if (v !== null) out[k] = asText(v);
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  const status = e && e.response ? ` (HTTP ${e.response.status}: ${JSON.stringify(e.response.data)})` : "";
  process.stderr.write(`esc_sdk_read.mjs: ${e && e.message ? e.message : e}${status}\n`);
  process.exit(1);
});
