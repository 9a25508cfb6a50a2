/**
 * What every World's `runs.import` shares (see `World.runs.import`): the checks of the input's
 * shape, the rule for a run id that exists already, and how the log is split into the appends that
 * write it. A World imports a run by inserting its `run_created` as `runs.create` does, then
 * applying the rest of the log with its OWN append code (`checkAppend`, `projectEvent`'s effects on
 * its tables), one segment at a time inside one transaction: a new segment begins at each
 * `run_restarted`, which must open an append. So the projections of an imported run are made by
 * exactly the code that made them in a World that ran it.
 */
import { ConflictError, ImportConflictError } from "../errors/world.ts";
import { type EventRecord, type NewEvent, UPGRADED_SPEC_VERSION } from "../world/events.ts";
import type { AppendRequest, CreateRunInput, ImportRunInput, RunRecord } from "../world/types.ts";

/**
 * Throws `ConflictError` when the input cannot be a run's log: no events, a gap or a repeat in
 * the sequence numbers, an event of another run, no `run_created` first, or one that names
 * another workflow, seed or spec version than the input.
 */
export function checkImportInput(input: ImportRunInput): void {
  const bad = (why: string): never => {
    throw new ConflictError(`Run ${input.runId} cannot be imported: ${why}. Nothing was written.`);
  };
  const first = input.events[0];
  if (first === undefined) bad("its log is empty");
  if (first?.type !== "run_created") bad(`its log begins with ${first?.type}, not run_created`);
  const data = (first as Extract<EventRecord, { type: "run_created" }>).data;
  if (data.workflowName !== input.workflowName || data.seed !== input.seed)
    bad("its run_created names another workflow or seed than the run");
  if (impliedSpecVersion(input) !== input.specVersion)
    bad("its spec version is not the one its log implies (its run_created's, raised by run_upgraded)");
  input.events.forEach((event, index) => {
    if (event.runId !== input.runId) bad(`event ${event.seq} belongs to run ${event.runId}`);
    if (event.seq !== index + 1) bad(`its log has event ${event.seq} where event ${index + 1} belongs`);
  });
  for (const item of input.inbox ?? []) {
    if (item.runId !== input.runId) bad(`inbox item ${item.itemId} belongs to run ${item.runId}`);
  }
  for (const stream of input.streams ?? []) {
    stream.chunks.forEach((chunk, index) => {
      if (chunk.index !== index)
        bad(`stream "${stream.name}" has chunk ${chunk.index} where ${index} belongs`);
    });
  }
}

/**
 * The spec version a run with this log has: its `run_created`'s, raised to
 * `UPGRADED_SPEC_VERSION` by a `run_upgraded` (as every World's append raises it).
 */
function impliedSpecVersion(input: ImportRunInput): number {
  const created = (input.events[0] as Extract<EventRecord, { type: "run_created" }>).data.specVersion;
  return input.events.some((event) => event.type === "run_upgraded")
    ? Math.max(created, UPGRADED_SPEC_VERSION)
    : created;
}

/**
 * The rule for an id that exists: the same run (same workflow and seed) is left as it is and
 * counts as imported already; anything else is an `ImportConflictError`.
 */
export function checkExistingImport(
  existing: Pick<RunRecord, "workflowName" | "seed">,
  input: ImportRunInput,
): void {
  if (existing.workflowName !== input.workflowName) {
    throw new ImportConflictError(
      input.runId,
      `a run of workflow ${existing.workflowName}, where the file has one of ${input.workflowName}`,
    );
  }
  if (existing.seed !== input.seed) {
    throw new ImportConflictError(
      input.runId,
      `a run of the same workflow with another seed: it was started here, not copied from the same run`,
    );
  }
}

/** The `runs.create` input that writes the run's row and its `run_created` (seq 1). */
export function importCreateInput(input: ImportRunInput): CreateRunInput & { createdAt: number } {
  const first = input.events[0] as Extract<EventRecord, { type: "run_created" }>;
  const create: CreateRunInput & { createdAt: number } = {
    runId: input.runId,
    workflowName: input.workflowName,
    // As its run_created says: the appends of the rest of the log raise it as they did at the source.
    specVersion: first.data.specVersion,
    seed: input.seed,
    encrypted: input.encrypted,
    input: first.payload ?? new Uint8Array(0),
    createdAt: first.createdAt,
  };
  if (first.data.bundleHash !== undefined) create.bundleHash = first.data.bundleHash;
  if (first.data.traceparent !== undefined) create.traceparent = first.data.traceparent;
  if (first.data.tracestate !== undefined) create.tracestate = first.data.tracestate;
  return create;
}

/**
 * The appends that write the rest of the log (events 2 to n), in order, without an owner: a new
 * one at each `run_restarted`. Each keeps its events' times; the sequence numbers follow.
 */
export function importSegments(input: ImportRunInput): AppendRequest[] {
  const segments: AppendRequest[] = [];
  let current: NewEvent[] = [];
  let expectedSeq = 1;
  const flush = (): void => {
    if (current.length === 0) return;
    segments.push({ runId: input.runId, expectedSeq, events: current });
    expectedSeq += current.length;
    current = [];
  };
  for (const event of input.events.slice(1)) {
    if (event.type === "run_restarted") flush();
    const next = { type: event.type, data: event.data, createdAt: event.createdAt } as NewEvent;
    if (event.payload !== undefined) next.payload = event.payload;
    current.push(next);
  }
  flush();
  return segments;
}

/** Bytes the run's inbox items and stream chunks add to its `payloadBytes` (the log's are counted by its appends). */
export function importExtraBytes(input: ImportRunInput): number {
  let bytes = 0;
  for (const item of input.inbox ?? []) bytes += item.payload?.length ?? 0;
  for (const stream of input.streams ?? []) for (const chunk of stream.chunks) bytes += chunk.data.length;
  return bytes;
}
