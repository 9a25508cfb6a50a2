/**
 * Re-encrypting stored payloads under the current key (`npx stepwise rekey`), so that an old key
 * can be retired. Two passes over every run (all statuses, paged):
 *
 * 1. check: reads every payload's envelope and counts what is under which key; a payload under a
 *    key id this process does not have stops everything here, before anything is written;
 * 2. rewrite: decrypts each payload that is not under the current key and encrypts it again under
 *    it, in the same format and at the same place (`resealPayload`), through `payloads.rewrite`
 *    (compare-and-swap per payload, in batches). Payloads stored in clear are left as they are.
 *
 * Stored workflow code (`World.bundles`, encrypted like a payload: `runtime/bundles.ts`) goes
 * through both passes too, after the runs, each bundle rewritten with `bundles.rewrite`
 * (compare-and-swap).
 *
 * Resumable: each payload names its key, so a rekey killed half-way and run again skips what is
 * done. Safe beside live workers: a payload is read with its old or its new bytes, both readable
 * while both keys are configured. A driver that took a hook payload or an event from a run's
 * inbox before it was rewritten appends it to the log with the old bytes; so a run whose inbox had
 * payloads rewritten is looked at again once the pass is over, until a look rewrites nothing more.
 */
import { ConfigError } from "../errors/runtime.ts";
import { BUNDLE_PLACE, bundleScope } from "../runtime/bundles.ts";
import { KEY_ENV, type Keyring, OLD_KEYS_ENV } from "../serde/keys.ts";
import { logBytes } from "../serde/logs.ts";
import { payloadInfo, resealPayload } from "../serde/payload.ts";
import { eventPlace, places } from "../serde/places.ts";
import type { EventRecord } from "../world/events.ts";
import type { InboxItem, PayloadRewrite, PayloadSlot, World } from "../world/types.ts";

/** How far a rekey is, for progress lines. */
export interface RekeyProgress {
  phase: "check" | "rewrite" | "recheck";
  runsDone: number;
  runsTotal: number;
  /** Payloads rewritten so far. */
  rewritten: number;
}

export interface RekeyOptions {
  world: World;
  /** The keys: `current` encrypts, every key decrypts (the environment's, in the command). */
  keys: Keyring;
  /** Only the check pass: report what would be rewritten, write nothing. */
  dryRun?: boolean;
  /** Called after each run of each pass. */
  onProgress?: (progress: RekeyProgress) => void;
  /** Payloads per `payloads.rewrite` call (default 200). */
  batchSize?: number;
}

/** What a rekey found and did. */
export interface RekeyReport {
  /** The key payloads are encrypted under afterwards. */
  keyId: string;
  runs: number;
  /** Stored versions of workflow code (bundles) looked at; their bytes count as payloads below. */
  bundles: number;
  /** Encrypted payloads per key id, as found by the check (the current key's included). */
  byKey: Record<string, number>;
  /** Payloads stored in clear: left as they are (rekey re-encrypts, it does not encrypt). */
  plain: number;
  /** Payloads not under the current key when checked: what a rekey rewrites. */
  toRewrite: number;
  /** Runs holding at least one of them. */
  runsToRewrite: number;
  /** Stored versions of workflow code among them. */
  bundlesToRewrite: number;
  /** Payloads rewritten (0 in a dry run). */
  rewritten: number;
  /** Payloads gone or changed by someone else before their rewrite (an inbox item taken meanwhile). */
  skipped: number;
  dryRun: boolean;
}

/** One stored payload of a run: where it is, its bytes and its place (for the cipher's binding). */
interface StoredPayload {
  slot: PayloadSlot;
  bytes: Uint8Array;
  place: string;
}

const PAGE = 500;

function inboxPlace(item: InboxItem): string {
  if (item.kind === "event") return places.eventPayload(item.itemId, item.eventType ?? "");
  return places.hookPayload(item.hookId ?? "", item.itemId);
}

/** The console output an event carries (step logs), as stored payloads. */
function* outputOf(event: EventRecord): Generator<StoredPayload> {
  const { workflowLogs } = event.data;
  if (workflowLogs !== undefined) {
    yield {
      slot: { kind: "eventLogs", seq: event.seq, field: "workflowLogs" },
      bytes: logBytes(workflowLogs),
      place: places.workflowLogs(workflowLogs.id ?? ""),
    };
  }
  if (
    (event.type === "step_completed" || event.type === "step_retrying" || event.type === "step_failed") &&
    event.data.logs !== undefined
  ) {
    yield {
      slot: { kind: "eventLogs", seq: event.seq, field: "logs" },
      bytes: logBytes(event.data.logs),
      place: places.stepLogs(event.data.stepId, event.data.attempt),
    };
  }
}

/**
 * Every payload a run stores, page by page: its log (with the console output its events carry),
 * its inbox, its streams, its webhooks' static responses.
 */
async function* payloadsOf(world: World, runId: string): AsyncGenerator<StoredPayload> {
  for (let afterSeq = 0; ; ) {
    const events = await world.events.list(runId, { afterSeq, limit: PAGE });
    for (const event of events) {
      if (event.payload !== undefined)
        yield { slot: { kind: "event", seq: event.seq }, bytes: event.payload, place: eventPlace(event) };
      yield* outputOf(event);
    }
    const last = events[events.length - 1];
    if (last === undefined || events.length < PAGE) break;
    afterSeq = last.seq;
  }
  for (const item of await world.inbox.list(runId)) {
    if (item.payload !== undefined)
      yield { slot: { kind: "inbox", itemId: item.itemId }, bytes: item.payload, place: inboxPlace(item) };
  }
  for (const hook of await world.hooks.list({ runId })) {
    const sealed = (hook.meta as { sealed?: unknown } | undefined)?.sealed;
    if (typeof sealed !== "string") continue;
    yield {
      slot: { kind: "hookResponse", hookId: hook.hookId },
      bytes: new Uint8Array(Buffer.from(sealed, "base64")),
      place: places.webhookResponse(hook.hookId),
    };
  }
  for (const stream of await world.streams.list(runId)) {
    for (let from = 0; from < stream.length; ) {
      const { chunks } = await world.streams.read(runId, stream.name, { from, limit: PAGE });
      if (chunks.length === 0) break;
      for (const chunk of chunks) {
        yield {
          slot: { kind: "stream", name: stream.name, index: chunk.index },
          bytes: chunk.data,
          place: places.streamChunk(stream.name),
        };
      }
      from += chunks.length;
    }
  }
}

/** Every run id, newest first, page by page. */
async function allRunIds(world: World): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await world.runs.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    for (const run of page.items) ids.push(run.runId);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

function refuseMissingKeys(
  missing: Map<string, { payloads: number; runs: Set<string> }>,
  keys: Keyring,
): never {
  const lines = [...missing].map(
    ([keyId, { payloads, runs }]) =>
      `  key id ${keyId}: ${payloads} payload(s) in ${runs.size} run(s), e.g. ${[...runs][0] ?? ""}`,
  );
  throw new ConfigError(
    `Cannot rekey: stored payloads are encrypted with key(s) this process does not have:\n${lines.join("\n")}\nThis process has ${keys.ids.join(", ")}. Add the old key(s) to ${OLD_KEYS_ENV} (comma-separated; ${KEY_ENV} stays the new key) and run rekey again. Nothing was changed.`,
  );
}

/**
 * Re-encrypts every payload not under `keys.current` (see the file header). `ConfigError`,
 * with nothing changed, without a current key or when a payload's key is missing;
 * `PayloadDecryptionError` when a payload fails authentication (the rewrites done before it stand:
 * each is complete and readable).
 */
export async function rekey(options: RekeyOptions): Promise<RekeyReport> {
  const { world, keys } = options;
  const current = keys.current;
  if (current === undefined) {
    throw new ConfigError(
      `Cannot rekey: ${KEY_ENV} is not set. rekey re-encrypts stored payloads under the current key: set ${KEY_ENV} to the new key and ${OLD_KEYS_ENV} to the old one(s), then run it again. Nothing was changed.`,
    );
  }
  const batchSize = Math.max(1, options.batchSize ?? 200);
  const progress = options.onProgress ?? (() => {});
  const report: RekeyReport = {
    keyId: current.id,
    runs: 0,
    bundles: 0,
    byKey: {},
    plain: 0,
    toRewrite: 0,
    runsToRewrite: 0,
    bundlesToRewrite: 0,
    rewritten: 0,
    skipped: 0,
    dryRun: options.dryRun === true,
  };

  // Pass 1: what is under which key; refuse before writing anything if a key is missing.
  const runIds = await allRunIds(world);
  report.runs = runIds.length;
  const toRewrite: string[] = [];
  const missing = new Map<string, { payloads: number; runs: Set<string> }>();
  for (const [index, runId] of runIds.entries()) {
    let stale = 0;
    for await (const payload of payloadsOf(world, runId)) {
      const info = payloadInfo(payload.bytes);
      if (info.format === "plain") report.plain++;
      if (info.format !== "encrypted") continue;
      const keyId = info.keyId ?? "unknown";
      report.byKey[keyId] = (report.byKey[keyId] ?? 0) + 1;
      if (keyId === current.id) continue;
      stale++;
      if (keys.get(keyId) === undefined) {
        const entry = missing.get(keyId) ?? { payloads: 0, runs: new Set<string>() };
        entry.payloads++;
        entry.runs.add(runId);
        missing.set(keyId, entry);
      }
    }
    if (stale > 0) toRewrite.push(runId);
    report.toRewrite += stale;
    progress({ phase: "check", runsDone: index + 1, runsTotal: runIds.length, rewritten: 0 });
  }
  report.runsToRewrite = toRewrite.length;
  // The stored workflow code, like a run's payloads (the "run" in messages is `bundle:<hash>`).
  const staleBundles: string[] = [];
  const hashes = await world.bundles.hashes();
  report.bundles = hashes.length;
  for (const hash of hashes) {
    const info = payloadInfo((await world.bundles.get(hash)).code);
    if (info.format !== "encrypted") {
      if (info.format === "plain") report.plain++;
      continue;
    }
    const keyId = info.keyId ?? "unknown";
    report.byKey[keyId] = (report.byKey[keyId] ?? 0) + 1;
    if (keyId === current.id) continue;
    staleBundles.push(hash);
    report.toRewrite++;
    report.bundlesToRewrite++;
    if (keys.get(keyId) === undefined) {
      const entry = missing.get(keyId) ?? { payloads: 0, runs: new Set<string>() };
      entry.payloads++;
      entry.runs.add(bundleScope(hash).runId);
      missing.set(keyId, entry);
    }
  }
  if (missing.size > 0) refuseMissingKeys(missing, keys);
  if (report.dryRun) return report;

  // Pass 2: rewrite, then look again at runs whose inbox had payloads rewritten.
  let pending = toRewrite;
  for (let round = 0; pending.length > 0; round++) {
    const again: string[] = [];
    for (const [index, runId] of pending.entries()) {
      if (await rewriteRun(world, keys, runId, batchSize, report)) again.push(runId);
      progress({
        phase: round === 0 ? "rewrite" : "recheck",
        runsDone: index + 1,
        runsTotal: pending.length,
        rewritten: report.rewritten,
      });
    }
    pending = again;
  }
  for (const hash of staleBundles) {
    const { code } = await world.bundles.get(hash);
    const bytes = resealPayload(keys, bundleScope(hash), BUNDLE_PLACE, code);
    if (bytes === undefined) continue;
    if (await world.bundles.rewrite(hash, code, bytes)) report.rewritten++;
    else report.skipped++;
  }
  return report;
}

/** Rewrites one run's stale payloads; true when inbox payloads were among them (look again). */
async function rewriteRun(
  world: World,
  keys: Keyring,
  runId: string,
  batchSize: number,
  report: RekeyReport,
): Promise<boolean> {
  let inboxRewritten = false;
  let batch: PayloadRewrite[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const result = await world.payloads.rewrite(runId, batch);
    report.rewritten += result.rewritten;
    report.skipped += result.skipped;
    batch = [];
  };
  for await (const payload of payloadsOf(world, runId)) {
    const bytes = resealPayload(keys, { runId }, payload.place, payload.bytes);
    if (bytes === undefined) continue;
    if (payload.slot.kind === "inbox") inboxRewritten = true;
    batch.push({ slot: payload.slot, expected: payload.bytes, bytes });
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return inboxRewritten;
}
