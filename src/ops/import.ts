/**
 * Importing an export file into a World (`npx stepwise import`). Three passes over the file, the
 * first two writing nothing:
 *
 * 1. verify: the whole file is read and checked (header and format version, every record, the
 *    trailer's counts and SHA-256: `export-format.ts`), each bundle's code against its hash
 *    (`bundle-code.ts`), and the key id of every encrypted payload against the keys this process
 *    has (the destination's workers need them; refused unless `allowMissingKeys`);
 * 2. check: each run against the destination: absent (its hook tokens must not be held by another
 *    run there), or present as the same run — same workflow and seed, and the file's log a prefix of
 *    the stored one (it may have moved on since an earlier import): counted as present. Any other
 *    run under one of the ids, or a token held by another run, refuses the whole file;
 * 3. write: the bundles (`bundles.put`, idempotent), then each run through `runs.import`, one
 *    transaction per run. A run that a concurrent writer made conflicting since the check fails
 *    there; what was written stays, and importing the file again counts it as present.
 */
import { ConfigError } from "../errors/runtime.ts";
import { ConflictError, NotFoundError } from "../errors/world.ts";
import { pinnedHash } from "../runtime/bundles.ts";
import { KEY_ENV, OLD_KEYS_ENV } from "../serde/keys.ts";
import { createPayloadCodec, type PayloadCodec, payloadInfo } from "../serde/payload.ts";
import type { EventRecord } from "../world/events.ts";
import type { World } from "../world/types.ts";
import { verifyBundleCode } from "./bundle-code.ts";
import {
  type ExportCounts,
  type ExportedBundle,
  type ExportedRun,
  ExportFileError,
  type ExportHeader,
} from "./export-format.ts";
import { readExport } from "./export-read.ts";

export type ImportPhase = "verify" | "check" | "write";

export interface ImportOptions {
  world: World;
  /** The export file. */
  path: string;
  /** The key ids this process can decrypt (`PayloadCodec.keyIds`). */
  keyIds: readonly string[];
  /** Opens bundle code (encrypted like payloads); the environment's keys by default. */
  payloads?: PayloadCodec;
  /** Import even when payloads are under keys this process does not have. */
  allowMissingKeys?: boolean;
  /** Verify and check only; write nothing. */
  dryRun?: boolean;
  onProgress?: (phase: ImportPhase, runsDone: number, runsTotal: number) => void;
}

export interface ImportReport {
  header: ExportHeader;
  counts: ExportCounts;
  /** Runs written by this import. */
  imported: number;
  /** Runs that were there already (imported before): left as they are. */
  present: number;
  /** Encrypted payloads per key id; `plain`: payloads in clear. */
  byKey: Record<string, number>;
  plain: number;
  /** Key ids of the file this process does not have (only with `allowMissingKeys`). */
  missingKeys: string[];
  /** Bundle hashes runs are pinned to that neither the file nor the World holds. */
  missingBundles: string[];
  dryRun: boolean;
}

/** A conflict found by the check: which run, and what is wrong. */
interface Conflict {
  runId: string;
  what: string;
}

/** JSON text with object keys sorted at every depth (stores reorder keys: PostgreSQL's jsonb does). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function sameEvent(a: EventRecord, b: EventRecord): boolean {
  if (a.seq !== b.seq || a.type !== b.type || a.createdAt !== b.createdAt) return false;
  if (canonical(a.data) !== canonical(b.data)) return false;
  if ((a.payload === undefined) !== (b.payload === undefined)) return false;
  return a.payload === undefined || Buffer.from(a.payload).equals(Buffer.from(b.payload ?? []));
}

/**
 * Every payload of a run as stored, with the sealed webhook responses in hook metadata and the
 * stored console output (step logs) in event metadata.
 */
function* payloadsOf(run: ExportedRun): Generator<Uint8Array> {
  for (const event of run.input.events) {
    if (event.payload !== undefined) yield event.payload;
    if (event.type === "hook_created") {
      const sealed = (event.data.meta as { sealed?: unknown } | undefined)?.sealed;
      if (typeof sealed === "string") yield new Uint8Array(Buffer.from(sealed, "base64"));
    }
    for (const logs of [(event.data as { logs?: unknown }).logs, event.data.workflowLogs]) {
      const sealed = (logs as { sealed?: unknown } | undefined)?.sealed;
      if (typeof sealed === "string") yield new Uint8Array(Buffer.from(sealed, "base64"));
    }
  }
  for (const item of run.input.inbox ?? []) if (item.payload !== undefined) yield item.payload;
  for (const stream of run.input.streams ?? []) for (const chunk of stream.chunks) yield chunk.data;
}

/** What the destination makes of one run: undefined when it can be imported or is present. */
async function checkRun(world: World, run: ExportedRun, present: Set<string>): Promise<Conflict | undefined> {
  const { input } = run;
  let existing: Awaited<ReturnType<World["runs"]["get"]>> | undefined;
  try {
    existing = await world.runs.get(input.runId);
  } catch (error) {
    if (!NotFoundError.is(error)) throw error;
  }
  if (existing === undefined) {
    for (const event of input.events) {
      if (event.type !== "hook_created") continue;
      try {
        const holder = await world.hooks.getByToken(event.data.token);
        if (holder.runId !== input.runId)
          return {
            runId: input.runId,
            what: `its hook token "${event.data.token}" is held by run ${holder.runId} here`,
          };
      } catch (error) {
        if (!NotFoundError.is(error)) throw error;
      }
    }
    return undefined;
  }
  if (existing.workflowName !== input.workflowName)
    return {
      runId: input.runId,
      what: `a run of another workflow has this id here (${existing.workflowName})`,
    };
  if (existing.seed !== input.seed)
    return { runId: input.runId, what: "another run of the same workflow has this id here (another seed)" };
  const stored = await world.events.list(input.runId, { limit: input.events.length });
  if (stored.length < input.events.length)
    return {
      runId: input.runId,
      what: `the copy here has ${stored.length} events and the file ${input.events.length}: the run went on in the source after it was first imported`,
    };
  const differs = input.events.findIndex((event, index) => !sameEvent(event, stored[index] as EventRecord));
  if (differs !== -1)
    return { runId: input.runId, what: `the copy here has another log (from event ${differs + 1} on)` };
  present.add(input.runId);
  return undefined;
}

function refuseConflicts(path: string, conflicts: readonly Conflict[]): never {
  const lines = conflicts.slice(0, 20).map((c) => `  ${c.runId}: ${c.what}`);
  if (conflicts.length > 20) lines.push(`  … and ${conflicts.length - 20} more`);
  throw new ConflictError(
    `Cannot import ${path}: ${conflicts.length} run(s) conflict with what this World holds:\n${lines.join("\n")}\nNothing was imported. Each of these ids names another run here (or its copy here has moved on): import into another World, or export again without those runs (name the others: npx stepwise export <runId>…), or remove them here first.`,
  );
}

function refuseMissingKeys(
  path: string,
  missing: Map<string, Set<string>>,
  keyIds: readonly string[],
): never {
  const lines = [...missing].map(
    ([keyId, runs]) => `  key id ${keyId}: ${runs.size} run(s), e.g. ${[...runs][0] ?? ""}`,
  );
  throw new ConfigError(
    `Cannot import ${path}: its payloads are encrypted with key(s) this process does not have:\n${lines.join("\n")}\n${keyIds.length === 0 ? "This process has no key" : `This process has ${keyIds.join(", ")}`}. The destination's workers need the same keys: set ${KEY_ENV} (and ${OLD_KEYS_ENV} for older keys) as the source's workers had them, and import again; or pass --allow-missing-keys if the workers of the destination have keys this process lacks. Nothing was imported.`,
  );
}

/** Verifies, checks and imports the file (see the module comment). */
export async function importRuns(options: ImportOptions): Promise<ImportReport> {
  const { world, path } = options;
  const progress = options.onProgress ?? (() => {});
  const known = new Set(options.keyIds);
  const payloads = options.payloads ?? createPayloadCodec();
  const bundles: ExportedBundle[] = [];
  const byKey: Record<string, number> = {};
  let plain = 0;
  const missing = new Map<string, Set<string>>();
  const runIds = new Set<string>();
  const pinned = new Set<string>();
  let seen = 0;

  // 1. verify: nothing is written from a file that is not whole.
  const verified = await readExport(path, {
    bundle(bundle) {
      bundles.push(bundle);
      const info = payloadInfo(bundle.code);
      if (info.format === "encrypted") {
        const keyId = info.keyId ?? "(none)";
        byKey[keyId] = (byKey[keyId] ?? 0) + 1;
        if (!known.has(keyId)) {
          // Unreadable here: the key check refuses the file, or --allow-missing-keys copies it unchecked.
          const runs = missing.get(keyId) ?? new Set<string>();
          runs.add(`bundle ${bundle.hash.slice(0, 12)}`);
          missing.set(keyId, runs);
          return;
        }
      }
      verifyBundleCode(bundle, path, payloads);
    },
    run(run) {
      if (runIds.has(run.input.runId))
        throw new ExportFileError(
          `${path} holds run ${run.input.runId} twice; nothing was imported. Export the runs again.`,
        );
      runIds.add(run.input.runId);
      const hash = pinnedHash(run.input.events);
      if (hash !== undefined) pinned.add(hash);
      for (const bytes of payloadsOf(run)) {
        const info = payloadInfo(bytes);
        if (info.format !== "encrypted") {
          if (info.format === "plain") plain += 1;
          continue;
        }
        const keyId = info.keyId ?? "(none)";
        byKey[keyId] = (byKey[keyId] ?? 0) + 1;
        if (!known.has(keyId)) {
          const runs = missing.get(keyId) ?? new Set<string>();
          runs.add(run.input.runId);
          missing.set(keyId, runs);
        }
      }
      seen += 1;
      progress("verify", seen, 0);
    },
  });
  const total = verified.counts.runs;
  if (missing.size > 0 && options.allowMissingKeys !== true) refuseMissingKeys(path, missing, options.keyIds);

  // 2. check against the destination: every conflict is listed, and nothing is written.
  const present = new Set<string>();
  const conflicts: Conflict[] = [];
  seen = 0;
  await readExport(path, {
    async run(run) {
      const conflict = await checkRun(world, run, present);
      if (conflict !== undefined) conflicts.push(conflict);
      seen += 1;
      progress("check", seen, total);
    },
  });
  if (conflicts.length > 0) refuseConflicts(path, conflicts);
  const missingBundles: string[] = [];
  const inFile = new Set(bundles.map((bundle) => bundle.hash));
  for (const hash of pinned) {
    if (inFile.has(hash)) continue;
    try {
      await world.bundles.get(hash);
    } catch (error) {
      if (!NotFoundError.is(error)) throw error;
      missingBundles.push(hash);
    }
  }
  const report: ImportReport = {
    header: verified.header,
    counts: verified.counts,
    imported: 0,
    present: present.size,
    byKey,
    plain,
    missingKeys: [...missing.keys()],
    missingBundles,
    dryRun: options.dryRun === true,
  };
  if (options.dryRun === true) return report;

  // 3. write: bundles first, so that a worker never meets a run whose code is not there yet.
  for (const bundle of bundles) {
    await world.bundles.put({
      hash: bundle.hash,
      filename: bundle.filename,
      workflowIds: bundle.workflowIds,
      code: bundle.code,
    });
  }
  report.present = 0;
  seen = 0;
  try {
    await readExport(path, {
      async run(run) {
        const result = await world.runs.import(run.input);
        if (result.imported) report.imported += 1;
        else report.present += 1;
        seen += 1;
        progress("write", seen, total);
      },
    });
  } catch (error) {
    // Runs are written one transaction each: say what stands, and that importing again finishes.
    if (error instanceof Error && seen > 0) {
      error.message += `\n${report.imported} run(s) of the file were imported before this, and the rest were not. Once the cause is fixed, import the file again: the runs imported already count as present.`;
    }
    throw error;
  }
  return report;
}
