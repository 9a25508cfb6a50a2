/**
 * `withWorkflow(nextConfig)`: the Next.js config wrapper. It adds the Stepwise loader
 * (`loader.ts`) in front of Next's compiler under both bundlers — a `webpack` function that
 * chains the one already there, and `turbopack.rules` appended to the ones already there — and
 * keeps `stepwise-workflows` out of the server bundle (`serverExternalPackages`), so the app's
 * route handlers, server actions and instrumentation share one copy of the runtime (one registry
 * of workflows and steps, one World, one worker) loaded by Node.
 *
 * It composes with other plugins in either order (`withWorkflow(withMDX(config))` and
 * `withMDX(withWorkflow(config))`), accepts the function form of a Next config (also async), and
 * applying it twice changes nothing.
 */
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The parts of a Next.js config `withWorkflow` reads and writes (`next` is not a dependency). */
export interface NextConfigLike {
  webpack?: WebpackConfigFunction | null;
  turbopack?: { rules?: Record<string, unknown>; [key: string]: unknown };
  serverExternalPackages?: string[];
  [key: string]: unknown;
}

/** Next's `webpack(config, context)` hook. */
export type WebpackConfigFunction = (config: WebpackConfigLike, context: WebpackContextLike) => unknown;

export interface WebpackConfigLike {
  module?: { rules?: unknown[] };
  [key: string]: unknown;
}

export interface WebpackContextLike {
  isServer: boolean;
  nextRuntime?: "nodejs" | "edge" | undefined;
  [key: string]: unknown;
}

/** The function form of a Next config: `(phase, { defaultConfig }) => config`. */
export type NextConfigFunction<C> = (phase: string, context: { defaultConfig: unknown }) => C | Promise<C>;

const MARK = Symbol.for("stepwise.next.withWorkflow");
const PACKAGE = "stepwise-workflows";
/** Files the loader looks at; both bundlers' own compilers handle everything else. */
const WEBPACK_TEST = /\.[cm]?[jt]sx?$/;
const TURBOPACK_GLOBS = ["*.ts", "*.tsx", "*.mts", "*.cts", "*.js", "*.jsx", "*.mjs", "*.cjs"];
/** Turbopack runs the loader only on files that mention a directive or the serialize symbols. */
const SERVER_CONTENT = /["']use (?:workflow|step)["']|serialize/;
const CLIENT_CONTENT = /["']use (?:workflow|step)["']/;

/** The loader's absolute path (the built `loader.js` next to this module, in `dist/next/`). */
export function loaderPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "loader.js");
}

function misuse(message: string): TypeError {
  return new TypeError(`withWorkflow(): ${message}`);
}

function webpackWith(
  previous: WebpackConfigFunction | null | undefined,
  loader: string,
): WebpackConfigFunction {
  if (previous !== undefined && previous !== null && typeof previous !== "function") {
    throw misuse(
      `the config's webpack is a ${typeof previous}, not a function (config, context) => config. Fix the config (or the plugin that set it); withWorkflow chains a webpack function, it cannot chain anything else.`,
    );
  }
  if (previous && (previous as { [MARK]?: boolean })[MARK]) return previous;
  const webpack: WebpackConfigFunction = (config, context) => {
    const target = context.isServer && context.nextRuntime !== "edge" ? "server" : "client";
    config.module ??= {};
    config.module.rules ??= [];
    config.module.rules.push({
      test: WEBPACK_TEST,
      enforce: "pre",
      use: [{ loader, options: { target } }],
    });
    return previous ? previous(config, context) : config;
  };
  Object.defineProperty(webpack, MARK, { value: true });
  return webpack;
}

function turbopackRulesWith(
  rules: Record<string, unknown> | undefined,
  loader: string,
): Record<string, unknown> {
  if (rules !== undefined && (typeof rules !== "object" || rules === null)) {
    throw misuse("the config's turbopack.rules is not an object of glob → rules. Fix the config first.");
  }
  const ours = [
    {
      condition: { all: [{ not: "browser" }, { not: "edge-light" }, { content: SERVER_CONTENT }] },
      loaders: [{ loader, options: { target: "server" } }],
    },
    {
      condition: { all: [{ any: ["browser", "edge-light"] }, { content: CLIENT_CONTENT }] },
      loaders: [{ loader, options: { target: "client" } }],
    },
  ];
  const out: Record<string, unknown> = { ...rules };
  for (const glob of TURBOPACK_GLOBS) {
    const existing = out[glob];
    if (existing === undefined) out[glob] = ours;
    else if (hasOurLoader(existing, loader)) continue;
    else out[glob] = [...(Array.isArray(existing) ? existing : [existing]), ...ours];
  }
  return out;
}

function hasOurLoader(rules: unknown, loader: string): boolean {
  return JSON.stringify(rules)?.includes(JSON.stringify(loader)) ?? false;
}

let linkedChecked = false;

/**
 * Where the app (`cwd`, where next runs) resolves `stepwise-workflows` from, when that is not
 * inside a node_modules folder (a linked package, a workspace folder, an app inside Stepwise's
 * own checkout); `undefined` when it is installed, or cannot be resolved (Next reports that).
 */
export function linkedStepwise(cwd: string): string | undefined {
  try {
    const resolved = createRequire(join(cwd, "package.json")).resolve(`${PACKAGE}/package.json`);
    const real = dirname(realpathSync(resolved));
    return real.split(sep).includes("node_modules") ? undefined : real;
  } catch {
    return undefined;
  }
}

/** Says once per process that a linked stepwise-workflows will be bundled (and fail) by Next. */
function warnIfLinked(): void {
  if (linkedChecked) return;
  linkedChecked = true;
  const linked = linkedStepwise(process.cwd());
  if (linked === undefined) return;
  process.stderr.write(
    `[stepwise] withWorkflow(): this app loads stepwise-workflows from ${linked}, which is not inside a node_modules folder (npm link, a workspace package, or an app inside Stepwise's own checkout). Next.js bundles such packages even when they are in serverExternalPackages, and the bundled runtime fails to build or runs twice. Install the package instead (npm install stepwise-workflows, or npm pack it and install the tarball).\n`,
  );
}

function wrapObject<C extends NextConfigLike>(config: C): C & NextConfigLike {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw misuse(
      `expected a Next.js config object (or a function returning one), got ${config === null ? "null" : typeof config}. Write export default withWorkflow(nextConfig), with nextConfig the object you would export.`,
    );
  }
  warnIfLinked();
  const loader = loaderPath();
  const externals = config.serverExternalPackages ?? [];
  return {
    ...config,
    webpack: webpackWith(config.webpack, loader),
    turbopack: { ...config.turbopack, rules: turbopackRulesWith(config.turbopack?.rules, loader) },
    serverExternalPackages: externals.includes(PACKAGE) ? externals : [...externals, PACKAGE],
  };
}

/**
 * Wraps a Next.js config so that `"use workflow"` and `"use step"` in the app's server code are
 * compiled (webpack and Turbopack), and a directive in a browser bundle is a build error.
 */
export function withWorkflow<C extends NextConfigLike>(config: C): C & NextConfigLike;
export function withWorkflow<C extends NextConfigLike>(
  config: NextConfigFunction<C>,
): NextConfigFunction<C & NextConfigLike>;
export function withWorkflow<C extends NextConfigLike>(
  config: C | NextConfigFunction<C>,
): (C & NextConfigLike) | NextConfigFunction<C & NextConfigLike> {
  if (typeof config === "function") {
    return async (phase, context) => wrapObject(await config(phase, context));
  }
  return wrapObject(config);
}
