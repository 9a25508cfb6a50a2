/**
 * Ids of workflows and steps that npm packages ship (`packages.ts`): `npm:<package>/<path inside
 * it>`, the same wherever the package is installed (hoisted, nested under another package, pnpm's
 * store) and whichever project uses it, named by its package.json (an npm alias does not rename it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bareSpecifierPackage } from "../../src/compiler/build-packages.ts";
import { packageOf } from "../../src/compiler/packages.ts";
import { idPath } from "../../src/compiler/project.ts";
import { transformDirectives } from "../../src/compiler/transform.ts";

const SOURCE = 'export async function charge(id) {\n  "use step";\n  return id;\n}\n';
const temp = mkdtempSync(join(tmpdir(), "stepwise-packages-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function install(dir: string, name: string): string {
  mkdirSync(join(dir, "dist"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, version: "1.2.3", type: "module" }));
  // A nested package.json (common in dual packages) must not move the package root.
  writeFileSync(join(dir, "dist", "package.json"), JSON.stringify({ type: "module" }));
  const file = join(dir, "dist", "steps.js");
  writeFileSync(file, SOURCE);
  return file;
}

const stepId = (file: string, root?: string) =>
  transformDirectives(SOURCE, { filename: file, mode: "host", ...(root ? { root } : {}) }).steps[0]?.id;

describe("ids of package files", () => {
  it("are npm:<name>/<path>, wherever and by whichever project the package is installed", () => {
    const hoisted = install(join(temp, "app", "node_modules", "@acme", "durable"), "@acme/durable");
    const nested = install(
      join(temp, "other", "node_modules", "sdk", "node_modules", "@acme", "durable"),
      "@acme/durable",
    );
    const pnpm = install(
      join(temp, "p", "node_modules", ".pnpm", "@acme+durable@1.2.3", "node_modules", "@acme", "durable"),
      "@acme/durable",
    );
    const expected = "step//npm:@acme/durable/dist/steps.js//charge";
    expect(stepId(hoisted)).toBe(expected);
    expect(stepId(nested)).toBe(expected);
    expect(stepId(pnpm)).toBe(expected);
    // A root given for the project's own files does not apply to package files.
    expect(stepId(hoisted, join(temp, "app"))).toBe(expected);
    expect(packageOf(nested)?.projectRoot).toBe(join(temp, "other"));
  });

  it("take the name from the package's package.json, not the directory (npm aliases)", () => {
    const aliased = install(join(temp, "alias", "node_modules", "durable-v2"), "@acme/durable");
    expect(stepId(aliased)).toBe("step//npm:@acme/durable/dist/steps.js//charge");
  });

  it("fall back to the directory name when the package has no package.json name", () => {
    const file = join(temp, "bare", "node_modules", "loose", "index.js");
    mkdirSync(join(temp, "bare", "node_modules", "loose"), { recursive: true });
    writeFileSync(file, SOURCE);
    expect(idPath(file)).toBe("npm:loose/index.js");
  });

  it("leave project files as they were", () => {
    expect(idPath(join(temp, "app", "workflows", "order.ts"), join(temp, "app"))).toBe("workflows/order.ts");
  });
});

describe("the packages the build follows", () => {
  it("are named by bare specifiers, never by paths, URLs, built-ins or Stepwise itself", () => {
    expect(bareSpecifierPackage("@acme/durable")).toBe("@acme/durable");
    expect(bareSpecifierPackage("@acme/durable/steps.js")).toBe("@acme/durable");
    expect(bareSpecifierPackage("lodash/fp")).toBe("lodash");
    for (const specifier of ["./x.js", "../y", "/abs/z.js", "#internal", "node:fs", "fs", "file:///a.js"])
      expect(bareSpecifierPackage(specifier), specifier).toBeUndefined();
    expect(bareSpecifierPackage("stepwise-workflows/api")).toBeUndefined();
  });
});
