/**
 * tsconfig `paths` in a real project: the app, its workflow and its steps import each other
 * through `@/…` aliases defined in a tsconfig that the project's tsconfig.json extends (with
 * comments and trailing commas, as tsconfig files have them). The alias works in host code and in
 * workflow code (the sandbox bundle), with `node --import stepwise-workflows/register` and with the
 * ahead-of-time build run by plain `node`; the cached sandbox bundle follows an edit of the
 * tsconfig. Needs `npm run build` (the processes load dist/).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProject } from "../../src/compiler/build.ts";
import { makeProject, type Project, REGISTER, runNode } from "../helpers/project.ts";

const FILES: Record<string, string> = {
  "config/tsconfig.base.json": `{
  // Shared settings; paths are relative to this file, since no baseUrl is set.
  "compilerOptions": {
    "paths": {
      "@/*": ["../src/*"],
      "@format": ["../src/lib/format.ts"], /* an exact alias */
    },
  },
}
`,
  "tsconfig.json": `{
  "extends": "./config/tsconfig.base.json",
  "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext", "allowImportingTsExtensions": true, "noEmit": true },
}
`,
  "src/lib/format.ts": `
export function format(label: string, n: number): string {
  return \`\${label} #\${n}\`;
}
`,
  "src/steps/charge.ts": `
import { format } from "@format";
export async function chargeCard(amount: number): Promise<string> {
  "use step";
  return format("charged", amount);
}
`,
  "src/workflows/order.ts": `
import { sleep } from "stepwise-workflows";
import { format } from "@/lib/format";
import { chargeCard } from "@/steps/charge.js";

export async function order(amount: number) {
  "use workflow";
  const receipt = await chargeCard(amount);
  await sleep("10ms");
  return \`\${receipt}, \${format("order", amount * 2)}\`;
}
`,
  "app.ts": `
import { start } from "stepwise-workflows/api";
import { order } from "@/workflows/order.ts";
const run = await start(order, [21]);
console.log(await run.returnValue);
`,
};

const EXPECTED = "charged #21, order #42\n";
let project: Project;

beforeAll(() => {
  if (!existsSync(REGISTER)) throw new Error(`${REGISTER} is missing: run npm run build first.`);
  project = makeProject(FILES);
});
afterAll(() => project.remove());

describe("tsconfig paths", () => {
  it("resolve in host code and in workflow code under node --import stepwise-workflows/register", async () => {
    const result = await runNode(["--import", REGISTER, "app.ts"], project.dir);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(EXPECTED);
    expect(result.code).toBe(0);
  });

  it("resolve in the ahead-of-time build, whose output runs with plain node", async () => {
    const built = await buildProject({ root: project.dir, entries: ["app.ts"], outDir: "build" });
    const rel = (path: string) => path.slice(project.dir.length + 1);
    expect(built.modules.map((m) => rel(m.output)).sort()).toEqual([
      "build/app.js",
      "build/src/lib/format.js",
      "build/src/steps/charge.js",
      "build/src/workflows/order.js",
    ]);
    const app = readFileSync(join(project.dir, "build", "app.js"), "utf8");
    expect(app).toContain('from "./src/workflows/order.js"');
    const order = readFileSync(join(project.dir, "build", "src", "workflows", "order.js"), "utf8");
    expect(order).toContain('"../steps/charge.js"');
    expect(order).not.toContain("@/");
    const result = await runNode(["build/app.js"], project.dir);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(EXPECTED);
    expect(result.code).toBe(0);
  });

  it("rebuild the cached sandbox bundle when the tsconfig maps an import elsewhere", async () => {
    // The workflow's "@/lib/format" now finds src/v2/lib/format.ts first; the rest falls back to src/.
    project.write(
      "src/v2/lib/format.ts",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a file of the test project
      "export const format = (label: string, n: number): string => `${label.toUpperCase()} #${n}`;\n",
    );
    const base = join(project.dir, "config", "tsconfig.base.json");
    writeFileSync(base, readFileSync(base, "utf8").replace('["../src/*"]', '["../src/v2/*", "../src/*"]'));
    const result = await runNode(["--import", REGISTER, "app.ts"], project.dir);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("charged #21, ORDER #42\n");
  });
});
