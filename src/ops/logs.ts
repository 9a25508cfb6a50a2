/**
 * A run's console output (step logs), read from its event log: each step attempt's lines from the
 * `logs` of its outcome (`step_completed`, `step_retrying`, `step_failed`) and the workflow body's
 * from the `workflowLogs` any event may carry (docs/architecture.md, "Step logs"). In log order, a
 * page at a time; the cursor is `<seq>:<line>` (the next line to show). Output of an encrypted run
 * is one `encrypted` entry per attempt unless decryption was asked for and recorded
 * (`PayloadView`). Shared by `inspect logs` and `GET /runs/:runId/logs`.
 */
import { StepwiseError } from "../errors/base.ts";
import { readLogs } from "../serde/logs.ts";
import { places } from "../serde/places.ts";
import type { EventRecord, SealedLogs } from "../world/events.ts";
import type { RunRecord, World } from "../world/types.ts";
import { ENCRYPTED_PAYLOAD, type PayloadView } from "./payload-view.ts";

/** One line of a run's output, or one attempt's output that stays encrypted. */
export interface LogEntry {
  /** The event the output was stored with. */
  seq: number;
  /** The step and attempt that printed it; null for the workflow body. */
  stepId: string | null;
  stepName: string | null;
  attempt: number | null;
  /** When it was printed (for an encrypted entry: when the output was stored), epoch ms. */
  at: number;
  /** The console method, `stdout` / `stderr` for a direct write, `truncated` for the bound's note. */
  level?: string;
  text?: string;
  /** The output is encrypted and was not decrypted; `lines` says how many lines it holds. */
  encrypted?: true;
  lines?: number;
}

export interface LogQuery {
  /** Only this step's output: its name (`charge`), its full id or its step id. */
  step?: string;
  /** The most entries to return (default 1000). */
  limit?: number;
  /** Where the previous page stopped (`nextCursor`). */
  cursor?: string;
}

export interface LogPage {
  entries: LogEntry[];
  nextCursor?: string;
}

/** Events read per request while paging through the log. */
const EVENTS_PER_READ = 200;

interface Stored {
  seq: number;
  at: number;
  stepId: string | null;
  attempt: number | null;
  place: string;
  logs: SealedLogs;
}

/** The output stored with `event`: its attempt's, then the workflow body's. */
function outputOf(event: EventRecord): Stored[] {
  const found: Stored[] = [];
  const data = event.data;
  const base = { seq: event.seq, at: event.createdAt };
  if (data.workflowLogs !== undefined) {
    const place = places.workflowLogs(data.workflowLogs.id ?? "");
    found.push({ ...base, stepId: null, attempt: null, place, logs: data.workflowLogs });
  }
  if (
    (event.type === "step_completed" || event.type === "step_retrying" || event.type === "step_failed") &&
    event.data.logs !== undefined
  ) {
    const { stepId, attempt } = event.data;
    const place = places.stepLogs(stepId, attempt);
    // The attempt's first: it ended before its outcome was recorded, and the workflow's output on
    // the same event is mostly its reaction to that outcome.
    found.unshift({ ...base, stepId, attempt, place, logs: event.data.logs });
  }
  return found;
}

function parseCursor(cursor: string | undefined): { seq: number; line: number } {
  if (cursor === undefined) return { seq: 0, line: 0 };
  const match = /^(\d{1,15}):(\d{1,9})$/.exec(cursor);
  if (match === null)
    throw new StepwiseError(
      `The cursor must be the one printed after a full page (<seq>:<line>, e.g. 42:7); got "${cursor}".`,
    );
  return { seq: Number(match[1]), line: Number(match[2]) };
}

/**
 * A page of run `run`'s output. `names` maps step ids to step names (from `world.steps.list`).
 * Call `view.unlock` before, when decrypting.
 */
export async function readRunLogs(
  world: World,
  view: PayloadView,
  run: RunRecord,
  query: LogQuery = {},
): Promise<LogPage> {
  const limit = query.limit ?? 1000;
  const names = new Map((await world.steps.list(run.runId)).map((step) => [step.stepId, step.stepName]));
  const wanted = (stepId: string | null): boolean => {
    if (query.step === undefined) return true;
    if (stepId === null) return false;
    const name = names.get(stepId) ?? "";
    return stepId === query.step || name === query.step || name.split("//").at(-1) === query.step;
  };
  const start = parseCursor(query.cursor);
  const entries: LogEntry[] = [];
  // Entry `line` of event `seq`: the position a cursor names (a group's lines, then its note).
  let afterSeq = Math.max(0, start.seq - 1);
  for (;;) {
    const events = await world.events.list(run.runId, { afterSeq, limit: EVENTS_PER_READ });
    for (const event of events) {
      let position = 0;
      for (const stored of outputOf(event)) {
        const group = groupEntries(view, run, stored, names);
        for (const entry of group) {
          const here = position++;
          if (event.seq === start.seq && here < start.line) continue;
          if (!wanted(stored.stepId)) continue;
          if (entries.length === limit) return { entries, nextCursor: `${event.seq}:${here}` };
          entries.push(entry);
        }
      }
    }
    const last = events.at(-1);
    if (last === undefined || events.length < EVENTS_PER_READ) return { entries };
    afterSeq = last.seq;
  }
}

/** The entries of one stored output: its lines and the bound's note, or one encrypted entry. */
function groupEntries(
  view: PayloadView,
  run: RunRecord,
  stored: Stored,
  names: ReadonlyMap<string, string>,
): LogEntry[] {
  const who = {
    seq: stored.seq,
    stepId: stored.stepId,
    stepName: stored.stepId === null ? null : (names.get(stored.stepId) ?? null),
    attempt: stored.attempt,
  };
  const value = view.show(run, stored.place, new Uint8Array(Buffer.from(stored.logs.sealed, "base64")));
  if (value === ENCRYPTED_PAYLOAD)
    return [{ ...who, at: stored.at, encrypted: true, lines: stored.logs.lines }];
  const logs = readLogs(value);
  const entries: LogEntry[] = logs.lines.map((line) => ({
    ...who,
    at: line.at,
    level: line.level,
    text: line.text,
  }));
  if (logs.truncated !== undefined) {
    const { lines, bytes } = logs.truncated;
    entries.push({
      ...who,
      at: logs.lines.at(-1)?.at ?? stored.at,
      level: "truncated",
      text: `output past the bound was left out (${lines} more line${lines === 1 ? "" : "s"}, ${bytes} bytes): an attempt keeps 1,000 lines and 64 KB`,
    });
  }
  return entries;
}
