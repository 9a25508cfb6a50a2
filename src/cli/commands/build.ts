/**
 * `stepwise build [entries…]`: compiles an app ahead of time, so production runs plain `node`.
 * Compiling shows a live line on stderr (`cli/progress.ts`); what was built goes to stdout.
 */
import { relative, resolve } from "node:path";
import { buildProject } from "../../compiler/index.ts";
import { discoverWorkflowFiles } from "../../ops/load.ts";
import { note, print, UsageError } from "../output.ts";
import { startProgress } from "../progress.ts";

export interface BuildCommandOptions {
  outDir: string;
  root?: string;
}

/** Builds `given` (default: every file under ./workflows); returns the exit code. */
export async function run(given: string[], options: BuildCommandOptions): Promise<number> {
  const entries = given.length > 0 ? given : discoverWorkflowFiles();
  if (entries.length === 0)
    throw new UsageError("build needs entry files (none given, and no ./workflows directory).");
  const request: Parameters<typeof buildProject>[0] = {
    entries: entries.map((entry) => resolve(entry)),
    outDir: options.outDir,
  };
  if (options.root !== undefined) request.root = options.root;
  const progress = startProgress(`compiling ${entries.length} entr${entries.length === 1 ? "y" : "ies"}…`);
  let result: Awaited<ReturnType<typeof buildProject>>;
  try {
    result = await buildProject(request);
  } finally {
    progress.stop();
  }
  for (const warning of result.warnings) note(`warning: ${warning.message}`);
  print(
    `built ${result.modules.length} module(s) and ${result.bundles.length} sandbox bundle(s) into ${relative(process.cwd(), result.outDir) || "."}`,
  );
  for (const bundle of result.bundles) print(`  ${bundle.workflowIds.join(", ")}`);
  return 0;
}
