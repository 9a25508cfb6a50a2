/**
 * `stepwise import <file>`: verifies an export file, checks it against the environment's World,
 * then writes its runs there (`ops/import.ts`); `--dry-run` stops before writing. Progress on
 * stderr, the summary on stdout (`--json` for scripts).
 */
import { type ImportPhase, type ImportReport, importRuns } from "../../ops/import.ts";
import { createWorldFromEnv } from "../../process/world-env.ts";
import { keyringFromEnv } from "../../serde/keys.ts";
import { createPayloadCodec } from "../../serde/payload.ts";
import { print } from "../output.ts";
import { startProgress } from "../progress.ts";

export interface ImportCommandOptions {
  dryRun?: boolean;
  allowMissingKeys?: boolean;
  json?: boolean;
}

const PHASES: Record<ImportPhase, string> = {
  verify: "verifying the file",
  check: "checking against this World",
  write: "importing",
};

/** The summary, in words. */
export function formatImportReport(report: ImportReport, file: string): string {
  const c = report.counts;
  const keys = Object.entries(report.byKey)
    .map(([keyId, count]) => `${keyId}: ${count}`)
    .join(", ");
  const lines = [
    `${file}: ${c.runs} runs (${c.events} events, ${c.inbox} inbox items, ${c.chunks} stream chunks, ${c.bundles} bundle(s)) exported from a ${report.header.world} World at ${report.header.createdAt}; encrypted payloads by key id: ${keys === "" ? "none" : keys}${report.plain > 0 ? `; ${report.plain} in clear` : ""}`,
  ];
  lines.push(
    report.dryRun
      ? `dry run: the file is whole and nothing conflicts: ${c.runs - report.present} would be imported, ${report.present} are here already; nothing was written`
      : `imported ${report.imported} run(s); ${report.present} were here already and were left as they are`,
  );
  if (report.missingKeys.length > 0)
    lines.push(
      `payloads under key id(s) ${report.missingKeys.join(", ")} cannot be read by this process (--allow-missing-keys): the workers here need those keys`,
    );
  if (report.missingBundles.length > 0)
    lines.push(
      `runs are pinned to bundle version(s) neither the file nor this World holds (${report.missingBundles.map((h) => h.slice(0, 12)).join(", ")})`,
    );
  if (!report.dryRun && report.imported > 0)
    lines.push(
      "Runs in flight continue as soon as a worker runs here with their workflows (npx stepwise worker).",
    );
  return lines.join("\n");
}

/** Imports; returns the exit code. */
export async function run(file: string, options: ImportCommandOptions): Promise<number> {
  const keys = keyringFromEnv();
  const world = await createWorldFromEnv();
  const progress = startProgress(`import: ${PHASES.verify}…`);
  try {
    const report = await importRuns({
      world,
      path: file,
      keyIds: keys.ids,
      payloads: createPayloadCodec({ keyring: keys }),
      allowMissingKeys: options.allowMissingKeys === true,
      dryRun: options.dryRun === true,
      onProgress: (phase, done, total) => {
        if (done % 100 === 0 || done === total)
          progress.update(`import: ${PHASES[phase]}: ${done}${total > 0 ? `/${total}` : ""} runs`);
      },
    });
    progress.stop();
    print(options.json ? JSON.stringify(report, null, 2) : formatImportReport(report, file));
    return 0;
  } catch (error) {
    progress.stop();
    throw error;
  } finally {
    await world.close();
  }
}
