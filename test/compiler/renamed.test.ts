/**
 * Ids that survive moves: a file listed in its project's package.json under
 * `"stepwise": { "renamed": { "<old path>": "<new path>" } }` keeps the ids of the path it was at,
 * through any number of moves, in every compiler mode; and the mistakes that would make two files
 * share ids, or that cannot be read, are refused with a message that says what to do.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CompileError } from "../../src/compiler/errors.ts";
import { keptPath } from "../../src/compiler/project.ts";
import { transformDirectives } from "../../src/compiler/transform.ts";

const temp = mkdtempSync(join(tmpdir(), "stepwise-renamed-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const SOURCE = `
async function charge(id: string) { "use step"; return id; }
export async function order(id: string) { "use workflow"; return await charge(id); }
`;
let projects = 0;

/** A fresh project (its own root, so nothing is cached across tests) with `renamed` in package.json. */
function project(renamed: unknown): string {
  const root = join(temp, `p${++projects}`);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "app", stepwise: { renamed } }));
  return root;
}

function ids(root: string, path: string, mode: "workflow" | "host" | "client" = "host"): string[] {
  const result = transformDirectives(SOURCE, { filename: join(root, path), mode });
  return [...result.workflows, ...result.steps].map((f) => f.id).sort();
}

describe("stepwise.renamed", () => {
  it("a moved file keeps the ids of the path it was at, in every mode", () => {
    const root = project({ "src/workflows/order.ts": "src/orders/checkout.ts" });
    for (const mode of ["workflow", "host", "client"] as const) {
      expect(ids(root, "src/orders/checkout.ts", mode)).toEqual([
        "step//src/workflows/order.ts//charge",
        "workflow//src/workflows/order.ts//order",
      ]);
    }
    // Files that did not move are not touched.
    expect(ids(root, "src/other.ts")).toEqual([
      "step//src/other.ts//charge",
      "workflow//src/other.ts//order",
    ]);
  });

  it("follows a file back through several moves (and ./ or backslashes in the entries)", () => {
    const root = project({ "./a.ts": "b.ts", "b.ts": "lib\\c.ts" });
    expect(keptPath(root, "lib/c.ts")).toBe("a.ts");
    expect(ids(root, "lib/c.ts")).toEqual(["step//a.ts//charge", "workflow//a.ts//order"]);
  });

  it("refuses a file with directives at a path that moved away: it would take its successor's ids", () => {
    const root = project({ "old.ts": "new.ts" });
    let error: unknown;
    try {
      ids(root, "old.ts");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CompileError);
    expect((error as Error).message).toContain(
      `old.ts is listed in package.json's "stepwise.renamed" as a file that moved away`,
    );
    expect((error as Error).message).toContain(`remove its "stepwise.renamed" entry`);
  });

  it("refuses entries that cannot be right, naming the package.json and what to do", () => {
    expect(() => ids(project({ "a.ts": "b.ts", "b.ts": "a.ts" }), "a.ts")).toThrow(/goes round in a circle/);
    expect(() => ids(project({ "a.ts": "c.ts", "b.ts": "c.ts" }), "c.ts")).toThrow(
      /moves both a\.ts and b\.ts to c\.ts; a file can keep the ids of only one path/,
    );
    expect(() => ids(project(["a.ts"]), "a.ts")).toThrow(
      /must be an object of "old path": "new path" entries/,
    );
    expect(() => ids(project({ "a.ts": 3 }), "b.ts")).toThrow(/entry "a.ts" must name the file's new path/);
  });
});
