#!/usr/bin/env node
/**
 * The dashboard's JavaScript budget: the gzipped size of dist/web/assets/*.js must stay within
 * 250 KB (what a user's browser downloads on the first visit). Run by `npm run build` after the
 * Vite build; exits 1 over budget (or when the dashboard was not built) and prints the figure.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const BUDGET_BYTES = 250 * 1024;

/** The gzipped size (level 9) of every JavaScript asset of the built dashboard, summed. */
export function shippedJsGzipBytes(dir = fileURLToPath(new URL("../dist/web/assets", import.meta.url))) {
  const files = readdirSync(dir).filter((name) => name.endsWith(".js"));
  if (files.length === 0) throw new Error(`No JavaScript in ${dir}: run npm run build first.`);
  return files.reduce((sum, name) => sum + gzipSync(readFileSync(join(dir, name)), { level: 9 }).length, 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = shippedJsGzipBytes();
  const kb = (bytes / 1024).toFixed(1);
  if (bytes > BUDGET_BYTES) {
    console.error(
      `The dashboard ships ${kb} KB of gzipped JavaScript, over its budget of 250 KB: make it smaller.`,
    );
    process.exit(1);
  }
  console.error(`dashboard: ${kb} KB of gzipped JavaScript (budget 250 KB)`);
}
