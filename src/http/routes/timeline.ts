/**
 * The dashboard's view of one run: `GET /runs/:runId/timeline` (its generations, every step
 * attempt, its waits: `ops/timeline.ts`), `GET /runs/:runId/events` (its event log, paged) and
 * `POST /runs/:runId/decrypt` (both, with encrypted payloads decrypted). The first two never
 * decrypt: an encrypted payload is `{ "encrypted": true }`. Decrypting goes through the same
 * `PayloadView` as `inspect --decrypt`: the audit record (who, the run, the time, the reason) is
 * written BEFORE anything is decrypted, and a second one says how it ended.
 */
import { generationsOf } from "../../ops/inspect.ts";
import { PayloadView } from "../../ops/payload-view.ts";
import { isoTimes } from "../../ops/table.ts";
import { runTimeline, type Timeline } from "../../ops/timeline.ts";
import { eventPlace } from "../../serde/places.ts";
import type { AuditEntry, World } from "../../world/types.ts";
import { decryptBody } from "../bodies.ts";
import { readJsonBody } from "../body.ts";
import type { JsonValue } from "../json-value.ts";
import type { ResolvedOptions } from "../options.ts";
import { payloadJson } from "../payload-json.ts";
import { HttpProblem, jsonResponse } from "../problem.ts";
import { invalidQuery, limitParameter, onlyParameters, quoteValue, singleParameter } from "../query.ts";
import type { RouteContext } from "../router.ts";
import { runSummary } from "./run-view.ts";

const iso = (at: number | null | undefined): string | null =>
  at === null || at === undefined ? null : new Date(at).toISOString();

/** Sets `key` on `target` when the payload was there (a missing payload leaves the field out). */
function withPayload(target: Record<string, unknown>, key: string, value: unknown): void {
  const json = payloadJson(value);
  if (json !== undefined) target[key] = json;
}

/** The timeline as JSON: times as ISO strings, payloads through `payloadJson`. */
function timelineJson(timeline: Timeline): Record<string, unknown> {
  const run: Record<string, unknown> = { ...runSummary(timeline.run), encrypted: timeline.run.encrypted };
  withPayload(run, "input", timeline.input);
  withPayload(run, "output", timeline.output);
  withPayload(run, "error", timeline.error);
  return {
    run,
    generations: timeline.generations.map((g) => ({ ...g, startedAt: iso(g.startedAt) })),
    steps: timeline.steps.map((step) => {
      const out: Record<string, unknown> = {
        stepId: step.stepId,
        name: step.name,
        attempts: step.attempts.map((attempt) => {
          const json: Record<string, unknown> = {
            attempt: attempt.attempt,
            generation: attempt.generation,
            startedAt: iso(attempt.startedAt),
            endedAt: iso(attempt.endedAt),
            outcome: attempt.outcome,
            retryAt: iso(attempt.retryAt),
          };
          withPayload(json, "error", attempt.error);
          return json;
        }),
      };
      withPayload(out, "input", step.input);
      withPayload(out, "output", step.output);
      withPayload(out, "error", step.error);
      return out;
    }),
    waits: timeline.waits.map((wait) => ({
      ...wait,
      startedAt: iso(wait.startedAt),
      endedAt: iso(wait.endedAt),
      until: iso(wait.until),
      ...(wait.received === undefined ? {} : { received: wait.received.map((at) => iso(at)) }),
    })),
    children: timeline.children,
  };
}

const MAX_EVENTS_PAGE = 1000;
const DEFAULT_EVENTS_PAGE = 100;

/** `cursor` (a seq, from the previous page) and `limit` of the events page. */
interface EventsPage {
  afterSeq: number;
  limit: number;
}

function eventsQuery(url: URL): EventsPage {
  onlyParameters(url, ["cursor", "limit"]);
  const cursor = singleParameter(url, "cursor");
  if (cursor !== undefined && !/^\d{1,15}$/.test(cursor))
    throw invalidQuery(
      `cursor must be the nextCursor of a previous page, a sequence number (got ${quoteValue(cursor)}).`,
    );
  const limit = limitParameter(url, MAX_EVENTS_PAGE, DEFAULT_EVENTS_PAGE);
  return { afterSeq: cursor === undefined ? 0 : Number(cursor), limit };
}

/**
 * One page of the run's log: `{ events: [{ seq, generation, type, at, ...data, payload? }],
 * nextCursor }` (times in the data as ISO strings; the run's secret seed left out).
 */
async function eventsPage(
  world: World,
  view: PayloadView,
  runId: string,
  page: EventsPage,
): Promise<{ events: Record<string, JsonValue | undefined>[]; nextCursor: string | null }> {
  const run = await world.runs.get(runId);
  const events = await world.events.list(runId, { afterSeq: page.afterSeq, limit: page.limit });
  const generations = await generationsOf(world, runId, events, page.afterSeq);
  const last = events.at(-1);
  return {
    events: events.map((event, index) => {
      const { seed: _seed, ...data } = isoTimes(event.data as Record<string, unknown>);
      // Stored console output is read at /runs/:runId/logs: here only how much there is.
      for (const field of ["logs", "workflowLogs"] as const) {
        const stored = data[field] as { lines?: number; truncated?: boolean } | undefined;
        if (stored !== undefined && typeof stored === "object")
          data[field] = { lines: stored.lines ?? 0, ...(stored.truncated ? { truncated: true } : {}) };
      }
      const json: Record<string, JsonValue | undefined> = {
        ...(data as Record<string, JsonValue>),
        seq: event.seq,
        generation: generations[index] ?? 1,
        type: event.type,
        at: new Date(event.createdAt).toISOString(),
      };
      if (event.payload !== undefined)
        json.payload = payloadJson(view.show(run, eventPlace(event), event.payload));
      return json;
    }),
    nextCursor: last !== undefined && events.length === page.limit ? String(last.seq) : null,
  };
}

/** `GET /runs/:runId/timeline` → 200 with the timeline; encrypted payloads stay `{ encrypted: true }`. */
export async function timelineRoute({ params, options }: RouteContext<ResolvedOptions>): Promise<Response> {
  const world = await options.client.world();
  const view = new PayloadView(options.client.payloadCodec(), {});
  return jsonResponse(200, timelineJson(await runTimeline(world, view, params.runId ?? "")));
}

/** `GET /runs/:runId/events?cursor=&limit=` → 200 `{ events, nextCursor }`. */
export async function eventsRoute({
  url,
  params,
  options,
}: RouteContext<ResolvedOptions>): Promise<Response> {
  const page = eventsQuery(url);
  const world = await options.client.world();
  const view = new PayloadView(options.client.payloadCodec(), {});
  return jsonResponse(200, await eventsPage(world, view, params.runId ?? "", page));
}

const auditJson = (entry: AuditEntry | undefined): Record<string, unknown> | null =>
  entry === undefined ? null : { ...entry, at: new Date(entry.at).toISOString() };

/**
 * `POST /runs/:runId/decrypt` `{ reason, cursor?, limit? }` → 200 `{ timeline, events, audit,
 * auditOutcome }`: the timeline and a page of the log with their payloads decrypted. The run must
 * exist (404, nothing recorded); without a key the answer is 409 ENCRYPTION_KEY_NOT_SET, nothing
 * recorded. Otherwise the audit record is written first (`PayloadView.unlock`), then the payloads
 * are read, then the outcome record; a payload that cannot be decrypted fails the request (422
 * PAYLOAD_DECRYPTION) after its failure is on record.
 */
export async function decryptRoute({
  request,
  params,
  options,
}: RouteContext<ResolvedOptions>): Promise<Response> {
  const body = await readJsonBody(request, decryptBody, options.maxBodyBytes);
  const cursorText = body.cursor === undefined ? undefined : String(body.cursor);
  const page = eventsQuery(
    new URL(
      `http://x/?${new URLSearchParams({
        ...(cursorText === undefined ? {} : { cursor: cursorText }),
        ...(body.limit === undefined ? {} : { limit: String(body.limit) }),
      })}`,
    ),
  );
  const world = await options.client.world();
  const runId = params.runId ?? "";
  const run = await world.runs.get(runId);
  const codec = options.client.payloadCodec();
  if (codec.keyIds.length === 0) {
    throw new HttpProblem(
      409,
      "ENCRYPTION_KEY_NOT_SET",
      `Decrypting needs the key the payloads were encrypted with, and this server has none: set STEPWISE_ENCRYPTION_KEY (and STEPWISE_ENCRYPTION_OLD_KEYS, comma-separated, for keys rotated out) in the server's environment and restart it.${run.encrypted ? "" : " (This run's payloads are not encrypted: the timeline shows them as they are.)"}`,
    );
  }
  const view = new PayloadView(codec, { decrypt: true, reason: body.reason });
  await view.unlock(world, "timeline", [runId]);
  let answer: { timeline: Record<string, unknown>; events: Awaited<ReturnType<typeof eventsPage>> };
  try {
    answer = {
      timeline: timelineJson(await runTimeline(world, view, runId)),
      events: await eventsPage(world, view, runId, page),
    };
  } catch (error) {
    // The failure is the news: if even recording it fails, the decryption error is still what to report.
    await view.settle(world, error).catch(() => {});
    throw error;
  }
  // Nothing decrypted is answered unless how it ended is on record too.
  await view.settle(world);
  return jsonResponse(200, {
    ...answer,
    audit: auditJson(view.audit),
    auditOutcome: auditJson(view.outcome),
  });
}
