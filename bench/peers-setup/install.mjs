// Installs the peers into bench/peers/ (git-ignored; never dependencies of the package) with
// `npm install --prefix bench/peers`, pinned to versions that work on Node 20, and builds the
// Vercel Workflow SDK's standalone bundles for bench/peers-setup/vercel-workflows.js.
// npm 11 asks before running install scripts: the peers' package.json approves the three that
// need them (esbuild and @swc/core check their platform binaries, cbor-extract builds or loads its
// native addon; cbor-x falls back to JavaScript without it). A second call with everything in
// place does nothing. Every failure is returned, never thrown: the bench reports it loudly and
// runs the rest.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const PEERS = {
  workflow: "4.8.9",
  "@workflow/world-postgres": "4.3.7",
  "@dbos-inc/dbos-sdk": "5.3.0",
};
const ALLOW_SCRIPTS = { esbuild: true, "@swc/core": true, "cbor-extract": true };

const here = fileURLToPath(new URL("./", import.meta.url));
export const PEERS_DIR = fileURLToPath(new URL("../peers/", import.meta.url));
export const VERCEL_APP = join(PEERS_DIR, "vercel-app");

export function installedVersion(name) {
  try {
    return JSON.parse(readFileSync(join(PEERS_DIR, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

const tail = (error) =>
  `${error.message}\n${String(error.stderr ?? "")}${String(error.stdout ?? "")}`
    .trim()
    .split("\n")
    .slice(-15)
    .join("\n");

function npmInstall(say) {
  const missing = Object.entries(PEERS).filter(([name, version]) => installedVersion(name) !== version);
  if (missing.length === 0) return;
  mkdirSync(PEERS_DIR, { recursive: true });
  writeFileSync(
    join(PEERS_DIR, "package.json"),
    `${JSON.stringify({ name: "stepwise-bench-peers", private: true, allowScripts: ALLOW_SCRIPTS }, null, 2)}\n`,
  );
  const specs = Object.entries(PEERS).map(([name, version]) => `${name}@${version}`);
  say(
    `installing peers into bench/peers/: npm install --prefix bench/peers ${specs.join(" ")} (about a minute)`,
  );
  execFileSync(
    "npm",
    ["install", "--prefix", PEERS_DIR, "--no-audit", "--no-fund", "--loglevel=error", ...specs],
    {
      stdio: "pipe",
      timeout: 600_000,
    },
  );
}

/** `workflow build` (standalone target) in bench/peers/vercel-app, when the workflow file changed. */
function buildVercelApp(say) {
  const source = readFileSync(join(here, "vercel-workflows.js"));
  const hash = createHash("sha256").update(source).update(PEERS.workflow).digest("hex");
  const stamp = join(VERCEL_APP, ".well-known/workflow/v1/.bench-hash");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;
  mkdirSync(join(VERCEL_APP, "workflows"), { recursive: true });
  // CommonJS: the bundles `workflow build` writes are CommonJS .js files.
  writeFileSync(
    join(VERCEL_APP, "package.json"),
    '{ "name": "vercel-bench-app", "private": true, "type": "commonjs" }\n',
  );
  copyFileSync(join(here, "vercel-workflows.js"), join(VERCEL_APP, "workflows/bench.js"));
  say("building the Vercel Workflow SDK bundles: npx workflow build (standalone)");
  execFileSync(join(PEERS_DIR, "node_modules/.bin/workflow"), ["build"], {
    cwd: VERCEL_APP,
    stdio: "pipe",
    timeout: 300_000,
  });
  writeFileSync(stamp, hash);
}

/** Installs what is missing; returns { vercel: {ok, version, error}, dbos: {...} }. */
export function ensurePeers(say = console.log) {
  const status = {};
  let installError;
  try {
    npmInstall(say);
  } catch (error) {
    installError = `npm install failed: ${tail(error)}`;
  }
  const check = (name) => {
    const version = installedVersion(name);
    if (version === PEERS[name]) return { ok: true, version };
    return {
      ok: false,
      error: installError ?? `${name}@${PEERS[name]} is not installed (found ${version ?? "nothing"})`,
    };
  };
  status.vercel = check("workflow");
  const worldPostgres = check("@workflow/world-postgres");
  status.vercelPostgres = status.vercel.ok ? worldPostgres : status.vercel;
  status.dbos = check("@dbos-inc/dbos-sdk");
  if (status.vercel.ok) {
    try {
      buildVercelApp(say);
    } catch (error) {
      status.vercel = { ok: false, error: `workflow build failed: ${tail(error)}` };
      status.vercelPostgres = status.vercel;
    }
  }
  return status;
}

/** The Postgres World's own schema setup (`npx --package=@workflow/world-postgres bootstrap`). */
export function bootstrapVercelPostgres(url) {
  execFileSync(process.execPath, [join(PEERS_DIR, "node_modules/@workflow/world-postgres/bin/setup.js")], {
    cwd: VERCEL_APP,
    env: { ...process.env, WORKFLOW_POSTGRES_URL: url },
    stdio: "pipe",
    timeout: 120_000,
  });
}
