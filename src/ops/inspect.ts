/**
 * What `npx stepwise inspect` shows, as a library: runs, steps, events, hooks and sleeps read from
 * a World, as plain rows (for `--json`: full ids, ISO times) and as readable tables (short names
 * unless `ids`, ISO times, the status a person understands: `ops/run-state.ts`), and the audit
 * trail. Payloads are shown through a `PayloadView` (`ops/payload-view.ts`): `<encrypted>` unless
 * decryption is asked for, which is recorded in the audit trail first.
 */
import { StepwiseError } from "../errors/base.ts";
import { ConfigError } from "../errors/runtime.ts";
import type { PayloadCodec } from "../serde/payload.ts";
import { eventPlace, places } from "../serde/places.ts";
import type { EventRecord } from "../world/events.ts";
import type {
  AuditEntry,
  HookRecord,
  ListRunsFilter,
  RunRecord,
  RunStatus,
  WaitRecord,
  WaitStatus,
  World,
} from "../world/types.ts";
import { describeValue, PayloadView, type PayloadViewOptions } from "./payload-view.ts";
import { describeRunState, type RunState, runState } from "./run-state.ts";
import { type Column, formatDuration, formatTable, formatTime, isoTimes, shortName } from "./table.ts";
import { resolveWorkflow } from "./workflow-names.ts";

export { currentActor, describeValue, ENCRYPTED_PAYLOAD } from "./payload-view.ts";

export type InspectResource = "runs" | "steps" | "events" | "hooks" | "sleeps" | "audit";
export const INSPECT_RESOURCES: readonly InspectResource[] = [
  "runs",
  "steps",
  "events",
  "hooks",
  "sleeps",
  "audit",
];

export interface InspectOptions extends PayloadViewOptions {
  /** For runs: one run's details; for the others: the run whose rows to show. */
  id?: string;
  /** Stored statuses (runs: one or several, or a comma-separated text; hooks, sleeps: one). */
  status?: string | readonly string[];
  /** Runs of one workflow: its full id, or its short name (every workflow with that name). */
  workflow?: string;
  runId?: string;
  limit?: number;
  cursor?: string;
  /** Tables show full workflow and step ids instead of short names. */
  ids?: boolean;
}

export interface InspectResult {
  rows: Record<string, unknown>[];
  table: string;
  nextCursor?: string;
  /** The audit record written before decrypting, when decryption was asked for. */
  audit?: AuditEntry;
  /** The audit record of how decrypting ended (it refers to `audit`). */
  auditOutcome?: AuditEntry;
}

const iso = (at: number | undefined): string | null => (at === undefined ? null : new Date(at).toISOString());

/** The state fields of a run's JSON row: `status` as shown, the stored one, and what it waits for. */
function stateFields(run: RunRecord, state: RunState): Record<string, unknown> {
  const fields: Record<string, unknown> = { status: state.status, storedStatus: run.status };
  if (state.until !== undefined) fields.until = iso(state.until);
  if (state.tokens !== undefined) fields.waitingFor = state.tokens;
  if (state.events !== undefined) fields.waitingForEvents = state.events;
  if (state.step !== undefined) fields.retrying = state.step;
  if (state.code !== undefined) fields.waitingForCode = state.code;
  return fields;
}

function runRow(run: RunRecord, state: RunState): Record<string, unknown> {
  return {
    runId: run.runId,
    workflow: run.workflowName,
    ...stateFields(run, state),
    createdAt: iso(run.createdAt),
    startedAt: iso(run.startedAt),
    completedAt: iso(run.completedAt),
    events: run.seq,
    version: run.bundleHash ?? null,
  };
}

/** How many hex characters of a run's version (`RunRecord.bundleHash`) the runs table shows. */
export const VERSION_CHARS = 12;

/** A run's version as the runs table shows it: the first characters of its bundle hash, `-` for none. */
export function shortVersion(run: RunRecord): string {
  return run.bundleHash === undefined ? "-" : run.bundleHash.slice(0, VERSION_CHARS);
}

/** How long a run took, or has been going (`… so far`), from its start. */
function runDuration(run: RunRecord, now: number): string {
  if (run.startedAt === undefined) return "-";
  if (run.completedAt !== undefined) return formatDuration(run.startedAt, run.completedAt);
  return `${formatDuration(run.startedAt, now)} so far`;
}

async function inspectRun(world: World, view: PayloadView, options: InspectOptions): Promise<InspectResult> {
  const run = await world.runs.get(options.id ?? "");
  const state = await runState(world, run);
  await view.unlock(world, "runs", [run.runId]);
  const row: Record<string, unknown> = { ...runRow(run, state), encrypted: run.encrypted };
  row.input = view.show(run, places.runInput, run.input);
  if (run.output !== undefined) row.output = view.show(run, places.runOutput, run.output);
  if (run.error !== undefined) row.error = view.show(run, places.runError, run.error);
  const name = options.ids ? (id: string) => id : shortName;
  const lines: [string, string][] = [
    ["run", run.runId],
    ["workflow", name(run.workflowName)],
    ["status", describeRunState(state, name)],
    ["created", formatTime(run.createdAt)],
    ["started", formatTime(run.startedAt)],
    ["completed", formatTime(run.completedAt)],
    ["duration", runDuration(run, Date.now())],
    ["events", String(run.seq)],
    ["version", run.bundleHash ?? "- (started before runs were pinned to their code)"],
    ["encrypted", String(run.encrypted)],
    ["input", describeValue(row.input)],
  ];
  if ("output" in row) lines.push(["output", describeValue(row.output)]);
  if ("error" in row) lines.push(["error", describeValue(row.error)]);
  return { rows: [row], table: lines.map(([key, value]) => `${key.padEnd(10)} ${value}`).join("\n") };
}

async function inspectRuns(world: World, view: PayloadView, options: InspectOptions): Promise<InspectResult> {
  if (options.id !== undefined) return inspectRun(world, view, options);
  const filter: ListRunsFilter = {};
  if (options.status !== undefined) {
    const list = typeof options.status === "string" ? options.status.split(",") : options.status;
    filter.status = list.map((status) => status.trim()) as RunStatus[];
  }
  if (options.workflow !== undefined) {
    const resolved = await resolveWorkflow(world, options.workflow);
    if (resolved.ids.length === 0) return { rows: [], table: resolved.none };
    filter.workflowName = resolved.ids.length === 1 ? (resolved.ids[0] as string) : resolved.ids;
  }
  if (options.limit !== undefined) filter.limit = options.limit;
  if (options.cursor !== undefined) filter.cursor = options.cursor;
  const page = await world.runs.list(filter);
  const now = Date.now();
  const shown = await Promise.all(
    page.items.map(async (run) => ({ run, state: await runState(world, run, now) })),
  );
  const name = options.ids ? (id: string) => id : shortName;
  const columns: Column<(typeof shown)[number]>[] = [
    { header: "run", value: ({ run }) => run.runId },
    { header: "workflow", value: ({ run }) => name(run.workflowName), max: options.ids ? 80 : 30 },
    { header: "status", value: ({ state }) => describeRunState(state, name), max: 70 },
    { header: "created", value: ({ run }) => formatTime(run.createdAt) },
    { header: "duration", value: ({ run }) => runDuration(run, now) },
    { header: "events", value: ({ run }) => String(run.seq) },
    { header: "version", value: ({ run }) => shortVersion(run) },
  ];
  const result: InspectResult = {
    rows: shown.map(({ run, state }) => runRow(run, state)),
    table: shown.length === 0 ? "No runs." : formatTable(shown, columns),
  };
  if (page.nextCursor !== undefined) result.nextCursor = page.nextCursor;
  return result;
}

async function inspectSteps(
  world: World,
  view: PayloadView,
  runId: string,
  options: InspectOptions,
): Promise<InspectResult> {
  const run = await world.runs.get(runId);
  const steps = await world.steps.list(runId);
  await view.unlock(world, "steps", [runId]);
  const shown = steps.map((step) => {
    const result =
      step.status === "completed" ? view.show(run, places.stepResult(step.stepId), step.output) : undefined;
    const error =
      step.error === undefined ? undefined : view.show(run, places.stepError(step.stepId), step.error);
    return { step, result, error, value: describeValue(step.status === "completed" ? result : error) };
  });
  const name = options.ids ? (id: string) => id : shortName;
  const columns: Column<(typeof shown)[number]>[] = [
    { header: "step", value: ({ step }) => step.stepId },
    { header: "name", value: ({ step }) => name(step.stepName), max: options.ids ? 80 : 30 },
    { header: "status", value: ({ step }) => step.status },
    { header: "attempt", value: ({ step }) => String(step.attempt) },
    { header: "started", value: ({ step }) => formatTime(step.startedAt) },
    {
      header: "duration",
      value: ({ step }) =>
        step.status === "retrying"
          ? `retry at ${formatTime(step.retryAt)}`
          : formatDuration(
              step.startedAt,
              step.completedAt ?? (step.status === "running" ? Date.now() : undefined),
            ),
    },
    { header: "result", value: ({ value }) => value, max: 50 },
  ];
  return {
    rows: shown.map(({ step, result, error }) => ({
      stepId: step.stepId,
      stepName: step.stepName,
      status: step.status,
      attempt: step.attempt,
      startedAt: iso(step.startedAt),
      completedAt: iso(step.completedAt),
      retryAt: iso(step.retryAt),
      input: view.show(run, places.stepArgs(step.stepId), step.input),
      result,
      error,
    })),
    table: steps.length === 0 ? `Run ${runId} has no steps yet.` : formatTable(shown, columns),
  };
}

/**
 * An event's metadata in words: times as ISO, names and bundle hashes (versions) short unless
 * `ids`, the seed left out.
 */
function eventDetail(view: PayloadView, run: RunRecord, event: EventRecord, ids: boolean): string {
  const data = Object.entries(isoTimes(event.data as Record<string, unknown>))
    .filter(([key]) => key !== "seed")
    .map(([key, value]) => {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      if (!ids && key.endsWith("Hash")) return `${key}=${text.slice(0, VERSION_CHARS)}`;
      return `${key}=${!ids && (key === "stepName" || key === "workflowName" || key === "step") ? shortName(text) : text}`;
    })
    .join(" ");
  const payload =
    event.payload === undefined ? "" : ` ${describeValue(view.show(run, eventPlace(event), event.payload))}`;
  return `${data}${payload}`;
}

/**
 * The generation of each of `events` (a page of the run's log after `afterSeq`): 1 before the
 * first `run_restarted`, then the generation each one begins. A page that does not start at the
 * beginning counts the restarts before it (reading the log's metadata up to `afterSeq`).
 */
export async function generationsOf(
  world: World,
  runId: string,
  events: readonly EventRecord[],
  afterSeq: number,
): Promise<number[]> {
  let generation = 1;
  if (afterSeq > 0) {
    for (const event of await world.events.list(runId, { limit: afterSeq })) {
      if (event.type === "run_restarted") generation = event.data.generation;
    }
  }
  return events.map((event) => {
    if (event.type === "run_restarted") generation = event.data.generation;
    return generation;
  });
}

async function inspectEvents(
  world: World,
  view: PayloadView,
  runId: string,
  options: InspectOptions,
): Promise<InspectResult> {
  const afterSeq = options.cursor === undefined ? 0 : Number(options.cursor);
  const limit = options.limit ?? 100;
  const run = await world.runs.get(runId);
  const events = await world.events.list(runId, {
    afterSeq: Number.isFinite(afterSeq) ? afterSeq : 0,
    limit,
  });
  await view.unlock(world, "events", [runId]);
  const generations = await generationsOf(world, runId, events, afterSeq);
  const restarted = generations.some((generation) => generation > 1);
  const columns: Column<EventRecord>[] = [
    { header: "seq", value: (e) => String(e.seq) },
    { header: "type", value: (e) => e.type },
    { header: "time", value: (e) => formatTime(e.createdAt) },
    { header: "detail", value: (e) => eventDetail(view, run, e, options.ids === true), max: 100 },
  ];
  // A restarted run's events say which generation they belong to (`run_restarted` begins one).
  if (restarted) {
    const generation = new Map(events.map((event, index) => [event.seq, generations[index] ?? 1]));
    columns.splice(1, 0, { header: "gen", value: (e) => String(generation.get(e.seq) ?? 1) });
  }
  const result: InspectResult = {
    rows: events.map((event, index) => ({
      seq: event.seq,
      generation: generations[index] ?? 1,
      type: event.type,
      createdAt: iso(event.createdAt),
      data: isoTimes(event.data as Record<string, unknown>),
      payload: view.show(run, eventPlace(event), event.payload),
    })),
    table:
      events.length === 0
        ? `Run ${runId} has no events${afterSeq > 0 ? ` after ${afterSeq}` : ""}.`
        : formatTable(events, columns),
  };
  const last = events.at(-1);
  if (last !== undefined && events.length === limit) result.nextCursor = String(last.seq);
  return result;
}

const HOOK_COLUMNS: Column<HookRecord>[] = [
  { header: "hook", value: (h) => h.hookId },
  { header: "token", value: (h) => h.token, max: 40 },
  { header: "kind", value: (h) => h.kind },
  { header: "status", value: (h) => h.status },
  { header: "run", value: (h) => h.runId },
  { header: "created", value: (h) => formatTime(h.createdAt) },
];

const WAIT_COLUMNS: Column<WaitRecord>[] = [
  { header: "wait", value: (w) => w.waitId },
  { header: "for", value: (w) => (w.kind === "event" ? `event ${w.eventType ?? ""}` : "sleep"), max: 60 },
  { header: "status", value: (w) => w.status },
  { header: "until", value: (w) => formatTime(w.resumeAt) },
  { header: "run", value: (w) => w.runId },
  { header: "created", value: (w) => formatTime(w.createdAt) },
];

const AUDIT_COLUMNS: Column<AuditEntry>[] = [
  { header: "time", value: (a) => formatTime(a.at) },
  { header: "who", value: (a) => `${a.actor.user}@${a.actor.host}`, max: 40 },
  { header: "pid", value: (a) => String(a.actor.pid) },
  { header: "action", value: (a) => a.action },
  { header: "resource", value: (a) => a.resource },
  { header: "runs", value: (a) => a.runIds.join(",") || "-", max: 60 },
  { header: "reason", value: (a) => a.reason ?? "", max: 50 },
  {
    header: "outcome",
    value: (a) =>
      a.outcome === undefined
        ? ""
        : `${a.outcome} (of ${a.refersTo ?? "?"})${a.detail ? `: ${a.detail}` : ""}`,
    max: 80,
  },
];

async function inspectAudit(
  world: World,
  runId: string | undefined,
  options: InspectOptions,
): Promise<InspectResult> {
  const page = await world.audit.list({
    ...(runId === undefined ? {} : { runId }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
  });
  const result: InspectResult = {
    rows: page.items.map((entry) => ({ ...entry, at: iso(entry.at) })),
    table: page.items.length === 0 ? "No audit records." : formatTable(page.items, AUDIT_COLUMNS),
  };
  if (page.nextCursor !== undefined) result.nextCursor = page.nextCursor;
  return result;
}

/** Refuses a decryption that cannot happen, before anything is read or recorded. */
export function checkDecrypt(payloads: PayloadCodec, resource: string, options: InspectOptions): void {
  const payloadView =
    resource === "steps" ||
    resource === "events" ||
    resource === "streams" ||
    (resource === "runs" && options.id !== undefined);
  if (!payloadView) {
    throw new StepwiseError(
      `Decrypting applies to one run's payloads: inspect runs <runId>, inspect steps <runId>, inspect events <runId> or inspect streams <runId> <name> (inspect ${resource}${resource === "runs" ? " without a run id" : ""} shows no payloads).`,
    );
  }
  if (payloads.keyIds.length === 0) {
    throw new ConfigError(
      "Decrypting needs the key the payloads were encrypted with: set STEPWISE_ENCRYPTION_KEY (and STEPWISE_ENCRYPTION_OLD_KEYS, comma-separated, for keys rotated out) in this environment.",
    );
  }
}

/**
 * Runs one inspect query. `RunNotFoundError` when a run id does not exist. With `decrypt`, writes
 * the audit record (returned as `audit`) before decrypting and, once decrypting has ended, a second
 * record of how (`auditOutcome`); `PayloadDecryptionError` when a payload cannot be decrypted with
 * the configured keys (recorded as a failed outcome first).
 */
export async function inspect(
  world: World,
  payloads: PayloadCodec,
  resource: InspectResource,
  options: InspectOptions = {},
): Promise<InspectResult> {
  if (options.decrypt) checkDecrypt(payloads, resource, options);
  const view = new PayloadView(payloads, options);
  let result: InspectResult;
  try {
    result = await query(world, view, resource, options);
  } catch (error) {
    // The failure is the news: if even recording it fails, the decryption error is still what to report.
    await view.settle(world, error).catch(() => {});
    throw error;
  }
  // Nothing decrypted is shown unless how it ended is on record too.
  await view.settle(world);
  if (view.audit === undefined) return result;
  return view.outcome === undefined
    ? { ...result, audit: view.audit }
    : { ...result, audit: view.audit, auditOutcome: view.outcome };
}

async function query(
  world: World,
  view: PayloadView,
  resource: InspectResource,
  options: InspectOptions,
): Promise<InspectResult> {
  const runId = options.runId ?? options.id;
  const status = typeof options.status === "string" ? options.status : options.status?.[0];
  switch (resource) {
    case "runs":
      return inspectRuns(world, view, options);
    case "audit":
      return inspectAudit(world, runId, options);
    case "steps":
    case "events":
      if (runId === undefined)
        throw new Error(`inspect ${resource} needs a run id: npx stepwise inspect ${resource} <runId>`);
      await world.runs.get(runId);
      return resource === "steps"
        ? inspectSteps(world, view, runId, options)
        : inspectEvents(world, view, runId, options);
    case "hooks": {
      if (runId !== undefined) await world.runs.get(runId);
      const filter: { runId?: string; status?: "active" | "disposed"; limit?: number } = {
        limit: options.limit ?? 50,
      };
      if (runId !== undefined) filter.runId = runId;
      if (status === "active" || status === "disposed") filter.status = status;
      const hooks = await world.hooks.list(filter);
      return {
        rows: hooks.map((hook) => ({
          ...hook,
          createdAt: iso(hook.createdAt),
          disposedAt: iso(hook.disposedAt),
        })),
        table: hooks.length === 0 ? "No hooks." : formatTable(hooks, HOOK_COLUMNS),
      };
    }
    case "sleeps": {
      if (runId !== undefined) await world.runs.get(runId);
      const filter: { runId?: string; status?: WaitStatus; limit?: number } = {
        limit: options.limit ?? 50,
      };
      if (runId !== undefined) filter.runId = runId;
      if (status === "waiting" || status === "completed" || status === "timed_out" || status === "cancelled")
        filter.status = status;
      const waits = await world.waits.list(filter);
      return {
        rows: waits.map((wait) => ({
          ...wait,
          resumeAt: iso(wait.resumeAt),
          createdAt: iso(wait.createdAt),
          completedAt: iso(wait.completedAt),
        })),
        table: waits.length === 0 ? "No sleeps or event waits." : formatTable(waits, WAIT_COLUMNS),
      };
    }
  }
}
