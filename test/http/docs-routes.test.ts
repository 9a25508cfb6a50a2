/**
 * docs/http.md describes every route the handler serves, and no other: the routes table of its
 * "Routes" section (method and path, query strings aside) must list exactly the route table of
 * `src/http/routes/index.ts`, and each route must have its own section (`### \`METHOD /path\``,
 * or one section for several). Adding a route without documenting it fails here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { routes } from "../../src/http/routes/index.ts";

const DOC = readFileSync(new URL("../../docs/http.md", import.meta.url), "utf8");

describe("docs/http.md", () => {
  it("lists every route in its routes table, and nothing else", () => {
    const rows = [...DOC.matchAll(/^\| (GET|POST|DELETE|PUT|any) +\| `([^`]+)`/gm)].map(
      ([, method, path]) => `${method === "any" ? "*" : method} ${(path ?? "").split("?")[0]}`,
    );
    const served = routes.map((route) => `${route.method} /${route.path}`);
    expect([...rows].sort()).toEqual([...served].sort());
  });

  it("has a section for every route", () => {
    for (const route of routes) {
      const method = route.method === "*" ? "ANY" : route.method;
      const heading = new RegExp(
        `^### .*\`${method} /${route.path.replace(/[/:]/g, (c) => `\\${c}`)}[\`?]`,
        "m",
      );
      const shared = new RegExp(`^### .*\`/${route.path.replace(/[/:]/g, (c) => `\\${c}`)}\``, "m");
      expect(heading.test(DOC) || shared.test(DOC), `${method} /${route.path}`).toBe(true);
    }
  });
});
