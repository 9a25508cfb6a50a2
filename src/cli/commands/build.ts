/** `stepwise build <entries…>`: compiles an app ahead of time, so production runs plain `node`. */
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildProject } from "../../compiler/index.ts";
import { discoverWorkflowFiles } from "../../ops/load.ts";
import { note, print, UsageError } from "../output.ts";

export const help = `Usage: npx stepwise build [entries…] [options]

Compiles [entries…] (default: every file under ./workflows) and everything they import into
--out-dir: host modules with their step registrations, and a sandbox bundle beside each workflow
file. The result runs with plain node (add --enable-source-maps for mapped stack traces) and needs
no loader: \`node dist/app.js\`, or \`npx stepwise worker dist/workflows/*.js\`.

Options:
  --out-dir <dir>   where to write (default: dist)
  --root <dir>      the project root (default: the nearest package.json)
  -h, --help        show this help`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { "out-dir": { type: "string" }, root: { type: "string" } },
  });
  const entries = positionals.length > 0 ? positionals : discoverWorkflowFiles();
  if (entries.length === 0)
    throw new UsageError("build needs entry files (none given, and no ./workflows directory).");
  const options: Parameters<typeof buildProject>[0] = { entries: entries.map((entry) => resolve(entry)) };
  if (values["out-dir"] !== undefined) options.outDir = values["out-dir"];
  if (values.root !== undefined) options.root = values.root;
  const result = await buildProject(options);
  for (const warning of result.warnings) note(`warning: ${warning.message}`);
  print(
    `built ${result.modules.length} module(s) and ${result.bundles.length} sandbox bundle(s) into ${relative(process.cwd(), result.outDir) || "."}`,
  );
  for (const bundle of result.bundles) print(`  ${bundle.workflowIds.join(", ")}`);
  return 0;
}
