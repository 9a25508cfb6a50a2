/**
 * `stepwise-workflows/vite` is imported by vite.config and by the app's server (hooks.server, for
 * `startWorker()`): importing it must load no compiler (esbuild, the parser), only what
 * `startWorker` needs, on call. A real Node process imports the built entry with a resolve hook
 * that prints every module it loads. Needs `npm run build`.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { REPO, runNode } from "../helpers/project.ts";

const HOOKS = `data:text/javascript,${encodeURIComponent(
  "export async function resolve(s, c, next) { const r = await next(s, c); console.log('loaded ' + r.url); return r; }",
)}`;

describe("stepwise-workflows/vite, imported", () => {
  it("loads the plugin and startWorker, not the compiler", async () => {
    const entry = pathToFileURL(join(REPO, "dist", "vite", "index.js")).href;
    const script = [
      'import { register } from "node:module";',
      `register(${JSON.stringify(HOOKS)});`,
      `const vite = await import(${JSON.stringify(entry)});`,
      "console.log('exports ' + Object.keys(vite).sort().join(','));",
    ].join("\n");
    const result = await runNode(["--input-type=module", "-e", script], REPO);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("exports default,startWorker,stepwise");
    const loaded = result.stdout.split("\n").filter((line) => line.startsWith("loaded "));
    expect(loaded.some((line) => line.endsWith("/dist/vite/index.js"))).toBe(true);
    expect(loaded.filter((line) => /\/dist\/(compiler|runtime|process)\//.test(line))).toEqual([]);
  });
});
