/**
 * `stepwise-workflows/register`: `node --import stepwise-workflows/register app.ts` runs TypeScript and JavaScript
 * files that use the directives, with no build step. Importing this module installs the loader
 * hooks (`hooks.ts`, on Node's loader thread) and turns on source maps, so stack traces from host
 * code point at the user's files. Importing it twice installs the hooks once.
 */
import { existsSync } from "node:fs";
import module from "node:module";
import { fileURLToPath } from "node:url";

const INSTALLED = Symbol.for("stepwise.register.installed");

/** The compiled hooks: beside this file in the package, or in dist/ when running from the sources. */
function hooksUrl(): URL {
  for (const candidate of ["./hooks.js", "../../dist/register/hooks.js"]) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  throw new Error(
    "The stepwise-workflows/register hooks are missing (dist/register/hooks.js): run npm run build, or reinstall stepwise-workflows.",
  );
}

const state = globalThis as { [INSTALLED]?: boolean };
if (state[INSTALLED] !== true) {
  if (typeof module.register !== "function") {
    throw new Error(
      `stepwise-workflows/register needs Node.js 20.19 or later (module.register); this is Node.js ${process.version}.`,
    );
  }
  process.setSourceMapsEnabled(true);
  module.register(hooksUrl());
  state[INSTALLED] = true;
}
