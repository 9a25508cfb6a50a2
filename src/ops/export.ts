/**
 * Exporting runs (`npx stepwise export`): every matching run of a World, with its whole log, the
 * inbox items still waiting, its streams and the messages that will wake it, then the workflow
 * bundles the runs are pinned to, written as an export file (`export-format.ts`), oldest run first.
 *
 * A run a live worker drives is mid-flight: its state moves while it is read, and it would go on
 * in this World after the copy was made. So export refuses while any run to export is leased by a
 * worker that may be alive ("stop the workers first"); a lease whose holder is certainly dead (a
 * killed worker on this machine) does not count, and `includeLeased` exports leased runs as they
 * are: a step started and not recorded then runs again in the destination, as after a kill -9.
 * Each run is read as one consistent snapshot: when its log or byte count moved while it was read
 * (a worker, a hook payload), it is read again.
 */
import { ConflictError, NotFoundError } from "../errors/world.ts";
import { pinnedHash } from "../runtime/bundles.ts";
import { SPEC_VERSION } from "../runtime/version.ts";
import { isOwnerDeadOnThisHost } from "../util/owner.ts";
import type { EventRecord } from "../world/events.ts";
import { type RunRecord, type RunStatus, TERMINAL_RUN_STATUSES, type World } from "../world/types.ts";
import { type ExportCounts, type ExportedRun, type ExportFilter, ExportWriter } from "./export-format.ts";

export interface ExportOptions {
  world: World;
  /** Appends text to the file (resolves once it may be called again). */
  write: (text: string) => Promise<void>;
  /** Which runs: ids, workflows (full ids), stored statuses, created since; every run when empty. */
  filter: ExportFilter;
  /** Export runs a live worker holds, as they are (see the module comment). */
  includeLeased?: boolean;
  /** Told after each run. */
  onProgress?: (done: number, total: number) => void;
  now?: () => number;
}

export interface ExportReport {
  counts: ExportCounts;
  /** Runs exported while a worker held them (only with `includeLeased`). */
  leased: string[];
  /** Bundle hashes runs are pinned to that the World does not hold (those runs replay with the current code there too). */
  missingBundles: string[];
}

const PAGE = 500;
/** Times a run is read again when it moved while it was read, before export gives up. */
const SNAPSHOT_TRIES = 5;

/** True when a worker that may be alive holds the run's lease (see the module comment). */
function heldByLiveWorker(run: RunRecord, now: number): boolean {
  if (TERMINAL_RUN_STATUSES.has(run.status) || run.lease === undefined) return false;
  return run.lease.expiresAt > now && !isOwnerDeadOnThisHost(run.lease.owner);
}

function refuseLeased(runIds: readonly string[]): never {
  const shown = runIds.slice(0, 10).join(", ");
  throw new ConflictError(
    `Cannot export: ${runIds.length} run(s) are being driven by a worker right now (${shown}${runIds.length > 10 ? ", …" : ""}). A copy made now would go on here too, and the run would run in both Worlds. Stop the workers of this World first (a killed worker's leases expire within its lease time, 5 s by default), then export again; or pass --include-leased to export those runs as they are (a step in flight runs again after the import). Nothing was written.`,
  );
}

/** The ids of the runs the filter names, oldest first. */
async function runIdsFor(world: World, filter: ExportFilter): Promise<string[]> {
  if (filter.runIds !== undefined && filter.runIds.length > 0) {
    for (const runId of filter.runIds) await world.runs.get(runId); // RunNotFoundError names it
    return [...new Set(filter.runIds)];
  }
  const ids: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await world.runs.list({
      limit: 1000,
      ...(filter.statuses === undefined ? {} : { status: filter.statuses as RunStatus[] }),
      ...(filter.workflows === undefined ? {} : { workflowName: filter.workflows }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    let older = false;
    for (const run of page.items) {
      if (filter.since !== undefined && run.createdAt < filter.since) {
        older = true;
        break;
      }
      ids.push(run.runId);
    }
    if (older || page.nextCursor === undefined) break;
    cursor = page.nextCursor;
  }
  return ids.reverse();
}

/** Everything of one run, read once; undefined when it moved meanwhile. */
async function readOnce(world: World, before: RunRecord): Promise<ExportedRun | undefined> {
  const { runId } = before;
  const events: EventRecord[] = [];
  for (let afterSeq = 0; ; ) {
    const page = await world.events.list(runId, { afterSeq, limit: PAGE });
    events.push(...page);
    const last = page[page.length - 1];
    if (last === undefined || page.length < PAGE) break;
    afterSeq = last.seq;
  }
  const inbox = await world.inbox.list(runId);
  const streams = [];
  for (const info of await world.streams.list(runId)) {
    const chunks = [];
    for (let from = 0; from < info.length; ) {
      const read = await world.streams.read(runId, info.name, { from, limit: PAGE });
      if (read.chunks.length === 0) break;
      chunks.push(...read.chunks);
      from += read.chunks.length;
    }
    streams.push({ name: info.name, closed: info.closed, chunks });
  }
  // A run that has ended needs no wake-up; one in flight keeps every message it had, unleased
  // (a message a worker held is due at once in the destination: it was due when it was claimed).
  const messages = TERMINAL_RUN_STATUSES.has(before.status)
    ? []
    : (await world.queue.list(runId)).map((message) => ({
        kind: message.kind,
        availableAt: message.availableAt,
        ...(message.dedupeKey === undefined ? {} : { dedupeKey: message.dedupeKey }),
      }));
  const after = await world.runs.get(runId);
  if (after.seq !== before.seq || after.payloadBytes !== before.payloadBytes || events.length !== before.seq)
    return undefined;
  const {
    input: _input,
    output: _output,
    error: _error,
    lease: _lease,
    wakePending: _wake,
    ...record
  } = before;
  return {
    record,
    input: {
      runId,
      workflowName: before.workflowName,
      specVersion: before.specVersion,
      seed: before.seed,
      encrypted: before.encrypted,
      events,
      inbox,
      streams,
      messages,
    },
  };
}

/** Writes the export (see the module comment); `ConflictError`, before anything is written, while workers hold runs. */
export async function exportRuns(options: ExportOptions): Promise<ExportReport> {
  const { world } = options;
  const now = options.now ?? Date.now;
  const runIds = await runIdsFor(world, options.filter);
  const leased: string[] = [];
  for (const runId of runIds) {
    if (heldByLiveWorker(await world.runs.get(runId), now())) leased.push(runId);
  }
  if (leased.length > 0 && options.includeLeased !== true) refuseLeased(leased);

  const writer = new ExportWriter(options.write);
  await writer.header({
    specVersion: SPEC_VERSION,
    world: world.name,
    createdAt: new Date(now()).toISOString(),
    filter: options.filter,
  });
  const hashes = new Set<string>();
  let done = 0;
  for (const runId of runIds) {
    let exported: ExportedRun | undefined;
    for (let attempt = 0; exported === undefined; attempt++) {
      if (attempt === SNAPSHOT_TRIES) {
        throw new ConflictError(
          `Cannot export run ${runId}: it changed every time it was read (${SNAPSHOT_TRIES} times). Stop the workers of this World, then export again.`,
        );
      }
      const before = await world.runs.get(runId);
      if (heldByLiveWorker(before, now()) && options.includeLeased !== true) refuseLeased([runId]);
      exported = await readOnce(world, before);
    }
    const hash = pinnedHash(exported.input.events);
    if (hash !== undefined) hashes.add(hash);
    await writer.run(exported);
    done += 1;
    options.onProgress?.(done, runIds.length);
  }
  const missingBundles: string[] = [];
  for (const hash of hashes) {
    let bundle: Awaited<ReturnType<World["bundles"]["get"]>>;
    try {
      bundle = await world.bundles.get(hash);
    } catch (error) {
      if (!NotFoundError.is(error)) throw error;
      missingBundles.push(hash);
      continue;
    }
    await writer.bundle({
      hash,
      filename: bundle.filename,
      workflowIds: bundle.workflowIds,
      code: bundle.code,
    });
  }
  await writer.end();
  return { counts: writer.counts, leased, missingBundles };
}
