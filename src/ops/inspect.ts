/**
 * What `npx stepwise inspect` shows, as a library: runs, steps, events, hooks and sleeps read from
 * a World, as plain rows (for `--json`) and as readable tables, and the audit trail. Payloads are
 * decoded for display through the payload codec, except encrypted ones, which show as
 * `<encrypted>` unless decryption is asked for: then an audit record (who, what, when, why) is
 * written BEFORE any payload is decrypted, and a second one AFTER, saying whether decrypting
 * succeeded or failed and why. Those records are the only thing inspecting writes.
 */
import { hostname, userInfo } from "node:os";
import { StepwiseError } from "../errors/base.ts";
import { ConfigError } from "../errors/runtime.ts";
import { decodeValue } from "../serde/codec.ts";
import { PayloadDecryptionError } from "../serde/errors.ts";
import { type PayloadCodec, type PayloadScope, payloadInfo } from "../serde/payload.ts";
import { eventPlace, places } from "../serde/places.ts";
import type { EventRecord } from "../world/events.ts";
import type {
  AuditActor,
  AuditEntry,
  HookRecord,
  ListRunsFilter,
  RunRecord,
  RunStatus,
  StepRecord,
  WaitRecord,
  World,
} from "../world/types.ts";
import { type Column, formatDuration, formatTable, formatTime } from "./table.ts";

export type InspectResource = "runs" | "steps" | "events" | "hooks" | "sleeps" | "audit";
export const INSPECT_RESOURCES: readonly InspectResource[] = [
  "runs",
  "steps",
  "events",
  "hooks",
  "sleeps",
  "audit",
];

export interface InspectOptions {
  /** For runs: one run's details; for the others: the run whose rows to show. */
  id?: string;
  status?: string;
  workflow?: string;
  runId?: string;
  limit?: number;
  cursor?: string;
  /**
   * Decrypt encrypted payloads (one run's: `runs <id>`, `steps`, `events`), after recording who
   * reads them in the World's audit trail. Needs the key (`ConfigError` without one).
   */
  decrypt?: boolean;
  /** Why, for the audit record. */
  reason?: string;
  /** Who, for the audit record; by default this process (`currentActor()`). */
  actor?: AuditActor;
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

/** The longest failure text an outcome record keeps. */
const MAX_OUTCOME_DETAIL = 1000;

/** Stands in for an encrypted payload that is not decrypted: `<encrypted>` in tables and JSON. */
export const ENCRYPTED_PAYLOAD: { toJSON(): string; toString(): string } = Object.freeze({
  toJSON: () => "<encrypted>",
  toString: () => "<encrypted>",
});

/** This process as an audit actor: the OS user, the host name and the pid. */
export function currentActor(): AuditActor {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.USERNAME ?? `uid ${String(process.getuid?.() ?? "?")}`;
  }
  return { user, host: hostname(), pid: process.pid };
}

/**
 * How payloads are shown: decoded when plain; `<encrypted>` when encrypted, unless decryption was
 * asked for and `unlock` has recorded it. A payload that cannot be decrypted fails the whole
 * inspection with its `PayloadDecryptionError` (which names the key id), never shows garbage.
 * `settle` records how decrypting ended.
 */
class PayloadView {
  #unlocked = false;
  #decrypted = 0;
  audit: AuditEntry | undefined;
  outcome: AuditEntry | undefined;

  constructor(
    private readonly payloads: PayloadCodec,
    private readonly options: InspectOptions,
  ) {}

  /** Records the decryption of `runIds`' payloads, if asked for; call before `show`. */
  async unlock(world: World, resource: InspectResource, runIds: readonly string[]): Promise<void> {
    if (!this.options.decrypt) return;
    const entry = {
      actor: this.options.actor ?? currentActor(),
      action: "decrypt",
      resource,
      runIds: [...new Set(runIds)],
    };
    this.audit = await world.audit.record(
      this.options.reason === undefined ? entry : { ...entry, reason: this.options.reason },
    );
    this.#unlocked = true;
  }

  /**
   * Records how the decryption `unlock` recorded ended (nothing when nothing was unlocked): failed,
   * with `error`'s name, code and message, or succeeded, with how many payloads were decrypted.
   */
  async settle(world: World, error?: unknown): Promise<void> {
    const attempt = this.audit;
    if (attempt === undefined || this.outcome !== undefined) return;
    let detail: string;
    if (error === undefined) {
      detail = `${this.#decrypted} encrypted payload${this.#decrypted === 1 ? "" : "s"} decrypted`;
    } else {
      const code = (error as { code?: unknown } | null)?.code;
      const text =
        error instanceof Error
          ? `${error.name}${typeof code === "string" ? ` (${code})` : ""}: ${error.message}`
          : String(error);
      detail = text.length > MAX_OUTCOME_DETAIL ? `${text.slice(0, MAX_OUTCOME_DETAIL - 1)}…` : text;
    }
    this.outcome = await world.audit.record({
      actor: attempt.actor,
      action: attempt.action,
      resource: attempt.resource,
      runIds: attempt.runIds,
      refersTo: attempt.auditId,
      outcome: error === undefined ? "succeeded" : "failed",
      detail,
    });
  }

  /** The value stored at `place` of `run`, or a placeholder when it stays encrypted. */
  show(run: PayloadScope, place: string, bytes: Uint8Array | undefined): unknown {
    if (bytes === undefined) return undefined;
    if (payloadInfo(bytes).format === "encrypted") {
      if (!this.options.decrypt) return ENCRYPTED_PAYLOAD;
      if (!this.#unlocked)
        throw new Error("internal: payloads decrypted before the audit record was written");
    }
    try {
      const decoded = decodeValue(this.payloads.decode(run, place, bytes));
      if (this.#unlocked && payloadInfo(bytes).format === "encrypted") this.#decrypted += 1;
      return decoded;
    } catch (error) {
      if (PayloadDecryptionError.is(error)) throw error;
      return `<unreadable: ${(error as Error).message}>`;
    }
  }
}

/** A short, one-line text for a decoded value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "";
  if (value === ENCRYPTED_PAYLOAD) return String(value);
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${v.toString()}n` : v)) ??
      String(value)
    );
  } catch {
    return String(value);
  }
}

function shortName(id: string): string {
  const at = id.lastIndexOf("//");
  return at === -1 ? id : id.slice(at + 2);
}

function runRow(view: PayloadView, run: RunRecord, full: boolean): Record<string, unknown> {
  const row: Record<string, unknown> = {
    runId: run.runId,
    workflow: run.workflowName,
    status: run.status,
    createdAt: new Date(run.createdAt).toISOString(),
    startedAt: run.startedAt === undefined ? null : new Date(run.startedAt).toISOString(),
    completedAt: run.completedAt === undefined ? null : new Date(run.completedAt).toISOString(),
    events: run.seq,
  };
  if (full) {
    row.encrypted = run.encrypted;
    row.input = view.show(run, places.runInput, run.input);
    if (run.output !== undefined) row.output = view.show(run, places.runOutput, run.output);
    if (run.error !== undefined) row.error = view.show(run, places.runError, run.error);
  }
  return row;
}

const RUN_COLUMNS: Column<RunRecord>[] = [
  { header: "run", value: (r) => r.runId },
  { header: "workflow", value: (r) => shortName(r.workflowName), max: 30 },
  { header: "status", value: (r) => r.status },
  { header: "created", value: (r) => formatTime(r.createdAt) },
  {
    header: "duration",
    value: (r) =>
      formatDuration(r.startedAt, r.completedAt ?? (r.startedAt === undefined ? undefined : Date.now())),
  },
  { header: "events", value: (r) => String(r.seq) },
];

function statusFilter(status: string | undefined): RunStatus[] | undefined {
  if (status === undefined) return undefined;
  return status.split(",").map((s) => s.trim()) as RunStatus[];
}

async function inspectRuns(world: World, view: PayloadView, options: InspectOptions): Promise<InspectResult> {
  if (options.id !== undefined) {
    const run = await world.runs.get(options.id);
    await view.unlock(world, "runs", [run.runId]);
    const row = runRow(view, run, true);
    const lines = Object.entries(row).map(
      ([key, value]) => `${key.padEnd(12)} ${typeof value === "string" ? value : describeValue(value)}`,
    );
    return { rows: [row], table: lines.join("\n") };
  }
  const filter: ListRunsFilter = {};
  const statuses = statusFilter(options.status);
  if (statuses !== undefined) filter.status = statuses;
  if (options.workflow !== undefined) filter.workflowName = options.workflow;
  if (options.limit !== undefined) filter.limit = options.limit;
  if (options.cursor !== undefined) filter.cursor = options.cursor;
  let page = await world.runs.list(filter);
  if (
    options.workflow !== undefined &&
    page.items.length === 0 &&
    !options.workflow.startsWith("workflow//")
  ) {
    // Accept a short name ("order") as well as a full id.
    const all = await world.runs.list({ ...filter, workflowName: undefined, limit: 1000 } as ListRunsFilter);
    const wanted = options.workflow;
    page = {
      items: all.items.filter((run) => shortName(run.workflowName) === wanted).slice(0, filter.limit ?? 50),
    };
  }
  const result: InspectResult = {
    rows: page.items.map((run) => runRow(view, run, false)),
    table: page.items.length === 0 ? "No runs." : formatTable(page.items, RUN_COLUMNS),
  };
  if (page.nextCursor !== undefined) result.nextCursor = page.nextCursor;
  return result;
}

const STEP_COLUMNS: Column<StepRecord & { value: string }>[] = [
  { header: "step", value: (s) => s.stepId },
  { header: "name", value: (s) => shortName(s.stepName), max: 30 },
  { header: "status", value: (s) => s.status },
  { header: "attempt", value: (s) => String(s.attempt) },
  { header: "started", value: (s) => formatTime(s.startedAt) },
  { header: "duration", value: (s) => formatDuration(s.startedAt, s.completedAt) },
  { header: "result", value: (s) => s.value, max: 50 },
];

async function inspectSteps(world: World, view: PayloadView, runId: string): Promise<InspectResult> {
  const run = await world.runs.get(runId);
  const steps = await world.steps.list(runId);
  await view.unlock(world, "steps", [runId]);
  const result = (step: StepRecord) => view.show(run, places.stepResult(step.stepId), step.output);
  const error = (step: StepRecord) => view.show(run, places.stepError(step.stepId), step.error);
  const withValues = steps.map((step) => {
    const value = step.status === "completed" ? result(step) : error(step);
    return { ...step, value: describeValue(value) };
  });
  return {
    rows: withValues.map((step) => ({
      stepId: step.stepId,
      stepName: step.stepName,
      status: step.status,
      attempt: step.attempt,
      startedAt: new Date(step.startedAt).toISOString(),
      completedAt: step.completedAt === undefined ? null : new Date(step.completedAt).toISOString(),
      retryAt: step.retryAt === undefined ? null : new Date(step.retryAt).toISOString(),
      input: view.show(run, places.stepArgs(step.stepId), step.input),
      result: step.status === "completed" ? result(step) : undefined,
      error: step.error === undefined ? undefined : error(step),
    })),
    table: steps.length === 0 ? `Run ${runId} has no steps yet.` : formatTable(withValues, STEP_COLUMNS),
  };
}

function eventDetail(view: PayloadView, run: RunRecord, event: EventRecord): string {
  const data = Object.entries(event.data as Record<string, unknown>)
    .filter(([key]) => key !== "seed")
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  const payload =
    event.payload === undefined ? "" : ` ${describeValue(view.show(run, eventPlace(event), event.payload))}`;
  return `${data}${payload}`;
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
  const result: InspectResult = {
    rows: events.map((event) => ({
      seq: event.seq,
      type: event.type,
      createdAt: new Date(event.createdAt).toISOString(),
      data: event.data,
      payload: view.show(run, eventPlace(event), event.payload),
    })),
    table:
      events.length === 0
        ? `Run ${runId} has no events${afterSeq > 0 ? ` after ${afterSeq}` : ""}.`
        : formatTable(events, [
            { header: "seq", value: (e) => String(e.seq) },
            { header: "type", value: (e) => e.type },
            { header: "time", value: (e) => formatTime(e.createdAt) },
            { header: "detail", value: (e) => eventDetail(view, run, e), max: 80 },
          ]),
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
  { header: "sleep", value: (w) => w.waitId },
  { header: "status", value: (w) => w.status },
  { header: "resumes", value: (w) => formatTime(w.resumeAt) },
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
    rows: page.items.map((entry) => ({ ...entry, at: new Date(entry.at).toISOString() })),
    table: page.items.length === 0 ? "No audit records." : formatTable(page.items, AUDIT_COLUMNS),
  };
  if (page.nextCursor !== undefined) result.nextCursor = page.nextCursor;
  return result;
}

/** Refuses a decryption that cannot happen, before anything is read or recorded. */
function checkDecrypt(payloads: PayloadCodec, resource: InspectResource, options: InspectOptions): void {
  const payloadView =
    resource === "steps" || resource === "events" || (resource === "runs" && options.id !== undefined);
  if (!payloadView) {
    throw new StepwiseError(
      `Decrypting applies to one run's payloads: inspect runs <runId>, inspect steps <runId> or inspect events <runId> (inspect ${resource}${resource === "runs" ? " without a run id" : ""} shows no payloads).`,
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
        ? inspectSteps(world, view, runId)
        : inspectEvents(world, view, runId, options);
    case "hooks": {
      if (runId !== undefined) await world.runs.get(runId);
      const filter: { runId?: string; status?: "active" | "disposed"; limit?: number } = {
        limit: options.limit ?? 50,
      };
      if (runId !== undefined) filter.runId = runId;
      if (options.status === "active" || options.status === "disposed") filter.status = options.status;
      const hooks = await world.hooks.list(filter);
      return {
        rows: hooks.map((hook) => ({ ...hook, createdAt: new Date(hook.createdAt).toISOString() })),
        table: hooks.length === 0 ? "No hooks." : formatTable(hooks, HOOK_COLUMNS),
      };
    }
    case "sleeps": {
      if (runId !== undefined) await world.runs.get(runId);
      const filter: { runId?: string; status?: "waiting" | "completed"; limit?: number } = {
        limit: options.limit ?? 50,
      };
      if (runId !== undefined) filter.runId = runId;
      if (options.status === "waiting" || options.status === "completed") filter.status = options.status;
      const waits = await world.waits.list(filter);
      return {
        rows: waits.map((wait) => ({
          ...wait,
          resumeAt: new Date(wait.resumeAt).toISOString(),
          createdAt: new Date(wait.createdAt).toISOString(),
        })),
        table: waits.length === 0 ? "No sleeps." : formatTable(waits, WAIT_COLUMNS),
      };
    }
  }
}
