/**
 * The dashboard is its own layer (docs/architecture.md, "The dashboard"): `web/src/` talks to the
 * engine only through the run API over HTTP, so it imports nothing from `src/` nor the package
 * (`stepwise-workflows…`), and nothing in `src/` imports `web/` — the Node package stays free of
 * DOM code. Only Preact and the app's own files are imported. Payloads and names are rendered as
 * text: no `dangerouslySetInnerHTML`, no `innerHTML` (biome's recommended rules refuse the first).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = resolve(fileURLToPath(new URL("../../", import.meta.url)));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** Every module specifier a file imports (static, `export … from`, `import("…")`). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(
    /(?:import|export)[^"'`;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g,
  ))
    found.push((match[1] ?? match[2] ?? match[3]) as string);
  return found;
}

const web = files(join(REPO, "web", "src")).filter((file) => /\.(ts|tsx)$/.test(file));
const src = files(join(REPO, "src")).filter((file) => file.endsWith(".ts"));

describe("the dashboard's layer", () => {
  it("imports only Preact and its own files", () => {
    expect(web.length).toBeGreaterThan(10);
    const outside: string[] = [];
    for (const file of web) {
      for (const spec of specifiers(readFileSync(file, "utf8"))) {
        const own = spec.startsWith(".") && resolve(file, "..", spec).startsWith(join(REPO, "web", "src"));
        if (!own && spec !== "preact" && !spec.startsWith("preact/"))
          outside.push(`${relative(REPO, file)} → ${spec}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it("is not imported by src/", () => {
    const importers = src.filter((file) =>
      specifiers(readFileSync(file, "utf8")).some((spec) =>
        resolve(file, "..", spec).startsWith(join(REPO, "web")),
      ),
    );
    expect(importers.map((file) => relative(REPO, file))).toEqual([]);
  });

  it("never sets HTML from strings", () => {
    const html = web.filter((file) =>
      /dangerouslySetInnerHTML|innerHTML|outerHTML|insertAdjacentHTML/.test(readFileSync(file, "utf8")),
    );
    expect(html.map((file) => relative(REPO, file))).toEqual([]);
  });
});
