/**
 * `stepwise rekey`: re-encrypts the World's stored payloads under STEPWISE_ENCRYPTION_KEY so that
 * the keys in STEPWISE_ENCRYPTION_OLD_KEYS can be retired. Progress on stderr, the summary on
 * stdout (`--json` for scripts). The work is done by `ops/rekey.ts`.
 */
import { type RekeyProgress, type RekeyReport, rekey } from "../../ops/rekey.ts";
import { createWorldFromEnv } from "../../process/world-env.ts";
import { keyringFromEnv, OLD_KEYS_ENV } from "../../serde/keys.ts";
import { print } from "../output.ts";
import { startProgress } from "../progress.ts";

function progressText(p: RekeyProgress): string {
  const what =
    p.phase === "check"
      ? "checking payloads"
      : p.phase === "rewrite"
        ? "re-encrypting"
        : "looking again at runs whose inbox changed";
  return `rekey: ${what}: ${p.runsDone}/${p.runsTotal} runs, ${p.rewritten} payloads rewritten`;
}

/** The summary, in words. */
export function formatRekeyReport(report: RekeyReport): string {
  const keys = Object.entries(report.byKey)
    .map(([keyId, count]) => `${keyId}${keyId === report.keyId ? " (current)" : ""}: ${count}`)
    .join(", ");
  const lines = [
    `${report.runs} runs and ${versions(report.bundles)} of workflow code checked; encrypted payloads by key id: ${keys === "" ? "none" : keys}`,
  ];
  const code =
    report.bundlesToRewrite > 0 ? ` and ${versions(report.bundlesToRewrite)} of workflow code` : "";
  if (report.plain > 0) {
    lines.push(
      `${report.plain} payloads stored in clear were left as they are (rekey does not encrypt them)`,
    );
  }
  if (report.dryRun) {
    lines.push(
      report.toRewrite === 0
        ? `dry run: nothing to rewrite, every encrypted payload is under ${report.keyId}`
        : `dry run: would rewrite ${report.toRewrite} payloads in ${report.runsToRewrite} runs${code} under ${report.keyId}; nothing was changed`,
    );
  } else {
    lines.push(
      `rewrote ${report.rewritten} payloads in ${report.runsToRewrite} runs${code} under key id ${report.keyId}` +
        (report.skipped > 0 ? ` (${report.skipped} were gone or changed meanwhile, and left)` : ""),
    );
    if (report.toRewrite > 0)
      lines.push(
        `When no process writes with an old key any more, the old key(s) can leave ${OLD_KEYS_ENV}: run rekey --dry-run first; it should find nothing to rewrite.`,
      );
  }
  return lines.join("\n");
}

/** Runs the rekey against the environment's World and keys; returns the exit code. */
export async function run(options: { dryRun?: boolean; json?: boolean }): Promise<number> {
  const keys = keyringFromEnv();
  const world = await createWorldFromEnv();
  const progress = startProgress(
    options.dryRun ? "rekey: checking payloads (dry run)" : "rekey: checking payloads",
  );
  try {
    const report = await rekey({
      world,
      keys,
      dryRun: options.dryRun === true,
      onProgress: (p) => progress.update(progressText(p)),
    });
    progress.stop();
    print(options.json ? JSON.stringify(report, null, 2) : formatRekeyReport(report));
    return 0;
  } catch (error) {
    progress.stop();
    throw error;
  } finally {
    await world.close();
  }
}

function versions(count: number): string {
  return `${count} version${count === 1 ? "" : "s"}`;
}
