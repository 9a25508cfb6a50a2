/**
 * Fixture tests of the directive transform (STYLE.md point 10). Each folder under `fixtures/`
 * holds an `input.ts` (or `input.js`) and, for each mode, the expected `output.<mode>.js` or
 * `error.<mode>.txt`; `error.txt` stands for the same error in every mode, and `warnings.txt`
 * lists the expected warnings. Ids are relative to the fixture folder. A `filename.txt` names the
 * path (relative to the fixture folder) the input is compiled as, for files that must sit
 * somewhere particular, such as a package under `node_modules` (ids `npm:<package>/<path>`).
 *
 * Regenerate the expected files after an intended change with:
 *   UPDATE_FIXTURES=1 npx vitest run test/compiler/fixtures.test.ts
 * and review the diff.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compiler/compile.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const MODES = ["workflow", "host", "client"] as const;
type Mode = (typeof MODES)[number];
type Outcome = { code: string; warnings: string[] } | { error: string };

const read = (file: string): string | undefined =>
  existsSync(file) ? readFileSync(file, "utf8") : undefined;

async function run(dir: string, input: string, mode: Mode): Promise<Outcome> {
  const as = read(join(dir, "filename.txt"))?.trim();
  const filename = as === undefined ? input : join(dir, as);
  try {
    const result = await compile(readFileSync(input, "utf8"), { filename, mode, root: dir });
    return { code: result.code, warnings: result.warnings.map(String) };
  } catch (error) {
    return { error: `${(error as Error).message}\n` };
  }
}

function write(dir: string, outcomes: Record<Mode, Outcome>): void {
  for (const file of readdirSync(dir)) if (/^(output\.|error|warnings)/.test(file)) rmSync(join(dir, file));
  const errors = MODES.map((m) => outcomes[m]).map((o) => ("error" in o ? o.error : undefined));
  if (errors.every((e) => e !== undefined && e === errors[0])) {
    writeFileSync(join(dir, "error.txt"), errors[0] ?? "");
    return;
  }
  for (const mode of MODES) {
    const outcome = outcomes[mode];
    if ("error" in outcome) writeFileSync(join(dir, `error.${mode}.txt`), outcome.error);
    else writeFileSync(join(dir, `output.${mode}.js`), outcome.code);
  }
  const warnings = MODES.flatMap((m) =>
    "warnings" in outcomes[m] ? (outcomes[m] as { warnings: string[] }).warnings : [],
  );
  const unique = [...new Set(warnings)];
  if (unique.length > 0) writeFileSync(join(dir, "warnings.txt"), `${unique.join("\n")}\n`);
}

const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe("compiler fixtures", () => {
  it("has fixtures", () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  for (const name of cases) {
    const dir = join(FIXTURES, name);
    const input = ["input.ts", "input.js"].map((f) => join(dir, f)).find((f) => existsSync(f));
    it(name, async () => {
      if (input === undefined) throw new Error(`${dir} has no input.ts or input.js`);
      const outcomes = {} as Record<Mode, Outcome>;
      for (const mode of MODES) outcomes[mode] = await run(dir, input, mode);
      if (process.env.UPDATE_FIXTURES === "1") write(dir, outcomes);
      const shared = read(join(dir, "error.txt"));
      const warnings = new Set<string>();
      for (const mode of MODES) {
        const outcome = outcomes[mode];
        const expected = shared ?? read(join(dir, `error.${mode}.txt`));
        if (expected !== undefined) {
          expect("error" in outcome ? outcome.error : outcome.code, `${name} (${mode})`).toBe(expected);
          continue;
        }
        const output = read(join(dir, `output.${mode}.js`));
        if (output === undefined)
          throw new Error(`${name}: no output.${mode}.js, error.${mode}.txt or error.txt`);
        expect("code" in outcome ? outcome.code : outcome.error, `${name} (${mode})`).toBe(output);
        if ("warnings" in outcome) for (const w of outcome.warnings) warnings.add(w);
      }
      const expectedWarnings = read(join(dir, "warnings.txt"));
      expect(warnings.size > 0 ? `${[...warnings].join("\n")}\n` : undefined, `${name} warnings`).toBe(
        expectedWarnings,
      );
    });
  }
});
