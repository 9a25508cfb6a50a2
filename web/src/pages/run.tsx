/**
 * A run's page: its header (status, times, actions), the trace timeline with the selected step's
 * detail and logs, its hooks with Resume forms, its streams, and its event log. A live
 * subscription for this run re-fetches the timeline, hooks, logs and events on each hint.
 * Encrypted payloads stay "encrypted" until the user decrypts them with a reason; the decrypted
 * view is a snapshot (live updates then show only the statuses), and "Hide" goes back.
 */
import { useState } from "preact/hooks";
import { ApiError, api } from "../api/client.ts";
import { useLive } from "../api/live.ts";
import type { EventView, HookView, LogLine, Timeline } from "../api/types.ts";
import { DecryptForm } from "../components/decrypt.tsx";
import { EventsLog } from "../components/events-log.tsx";
import { HooksPanel } from "../components/hooks.tsx";
import { LogLines } from "../components/log-lines.tsx";
import { RunActions } from "../components/run-actions.tsx";
import { StatusBadge } from "../components/status.tsx";
import { StepDetail } from "../components/step-detail.tsx";
import { StreamsPanel } from "../components/streams.tsx";
import { TimelineChart } from "../components/timeline.tsx";
import { useFetch } from "../components/use-fetch.ts";
import { ErrorValue, Value } from "../components/value.tsx";
import { between, formatDuration, formatTime, shortName } from "../format.ts";
import { NotFoundPage } from "./not-found.tsx";

/** The timeline; a server without the timeline route still shows the run's header. */
async function loadTimeline(runId: string): Promise<Timeline> {
  try {
    return await api.timeline(runId);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "ROUTE_NOT_FOUND") throw error;
    const run = await api.run(runId);
    return { run, generations: [], steps: [], waits: [], children: [] };
  }
}

/** Absent routes (404 that is not about the run) read as "nothing": e.g. logs on an older server. */
async function orNothing<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

export function RunPage(props: { runId: string }) {
  const { runId } = props;
  const timeline = useFetch(() => loadTimeline(runId), [runId]);
  const hooks = useFetch(async (): Promise<HookView[] | undefined> => {
    const answer = await orNothing(() => api.hooks(runId));
    return answer === undefined ? undefined : Array.isArray(answer) ? answer : answer.hooks;
  }, [runId]);
  const logs = useFetch(
    async (): Promise<LogLine[] | undefined> => (await orNothing(() => api.logs(runId)))?.logs,
    [runId],
  );
  const events = useFetch(() => orNothing(() => api.events(runId)), [runId]);
  const [moreEvents, setMoreEvents] = useState<{ events: EventView[]; next: string | null } | undefined>();
  const [selected, setSelected] = useState<string | undefined>();
  const [decrypting, setDecrypting] = useState(false);
  const [decrypted, setDecrypted] = useState<{ timeline?: Timeline; events?: EventView[] } | undefined>();
  // Bumped on every live hint: the streams panel reads the run's stream list again.
  const [streamsVersion, setStreamsVersion] = useState(0);

  const refresh = () => {
    timeline.reload();
    hooks.reload();
    logs.reload();
    setStreamsVersion((version) => version + 1);
    if (moreEvents === undefined) events.reload();
  };
  useLive(runId, refresh);

  const error = timeline.error;
  if (error instanceof ApiError && error.status === 404) {
    return <NotFoundPage what={`No run with id ${runId}.`} />;
  }
  const shown = decrypted?.timeline ?? timeline.value;
  if (!shown) {
    return error ? (
      <p class="error" role="alert">
        {error.message}
      </p>
    ) : (
      <p class="muted">Loading…</p>
    );
  }
  const run = timeline.value?.run ?? shown.run;
  const step = shown.steps.find((s) => s.stepId === selected) ?? undefined;
  const askDecrypt = () => setDecrypting(true);
  const hookList: HookView[] =
    hooks.value ??
    shown.waits
      .filter((wait) => wait.kind === "hook" && wait.token)
      .map((wait) => ({
        token: wait.token as string,
        hookId: wait.id,
        status: wait.outcome ?? (wait.endedAt ? "completed" : "waiting"),
        createdAt: wait.startedAt,
      }));
  const workflowLogs = logs.value?.filter((line) => line.stepId === null) ?? [];
  const eventList = decrypted?.events ?? [...(events.value?.events ?? []), ...(moreEvents?.events ?? [])];
  const nextEvents = moreEvents ? moreEvents.next : (events.value?.nextCursor ?? null);

  return (
    <article class="run" data-run-id={run.runId}>
      <header class="run-header">
        <h1>
          <span class="mono">{run.runId}</span> <StatusBadge status={run.status} />
        </h1>
        <p>
          <span title={run.workflowName}>{shortName(run.workflowName)}</span>
          <span class="muted"> {run.workflowName}</span>
          {run.language && <span class="muted"> · {run.language}</span>}
        </p>
        <dl class="times">
          <dt>Created</dt>
          <dd>{formatTime(run.createdAt)}</dd>
          <dt>Started</dt>
          <dd>{formatTime(run.startedAt)}</dd>
          <dt>Ended</dt>
          <dd>{formatTime(run.completedAt)}</dd>
          <dt>Duration</dt>
          <dd>{formatDuration(run.startedAt ? between(run.startedAt, run.completedAt) : null)}</dd>
        </dl>
        <RunActions run={run} steps={shown.steps} onChanged={refresh} />
        {error && (
          <p class="error" role="alert">
            {error.message}
          </p>
        )}
      </header>

      {decrypting && (
        <DecryptForm
          onCancel={() => setDecrypting(false)}
          onDecrypt={async (reason) => {
            const answer = await api.decrypt(runId, reason);
            setDecrypted({ timeline: answer.timeline, events: answer.events.events });
            setDecrypting(false);
          }}
        />
      )}
      {decrypted && (
        <p class="notice">
          Showing decrypted payloads (a snapshot).{" "}
          <button type="button" class="small" onClick={() => setDecrypted(undefined)}>
            Hide
          </button>
        </p>
      )}

      <section>
        <h2>Timeline</h2>
        <TimelineChart timeline={shown} selected={selected} onSelect={setSelected} />
        {step && <StepDetail step={step} logs={logs.value} onDecrypt={askDecrypt} />}
      </section>

      {shown.run.input !== undefined && (
        <section>
          <h2>Input</h2>
          <Value value={shown.run.input} onDecrypt={askDecrypt} />
        </section>
      )}
      {(run.output !== undefined || run.error !== undefined) && (
        <section>
          <h2>{run.error !== undefined ? "Error" : "Output"}</h2>
          {run.error !== undefined ? (
            <ErrorValue error={(shown.run.error ?? run.error) as unknown} onDecrypt={askDecrypt} />
          ) : (
            <Value value={shown.run.output ?? run.output} onDecrypt={askDecrypt} />
          )}
        </section>
      )}

      {workflowLogs.length > 0 && (
        <section>
          <h2>Workflow logs</h2>
          <LogLines lines={workflowLogs} testId="workflow-logs" />
        </section>
      )}

      <section>
        <h2>Hooks</h2>
        <HooksPanel
          hooks={hookList}
          runEnded={["completed", "failed", "cancelled"].includes(run.status)}
          onChanged={refresh}
        />
      </section>

      <section>
        <h2>Streams</h2>
        <StreamsPanel runId={runId} version={streamsVersion} />
      </section>

      <section>
        <h2>Event log</h2>
        {events.value === undefined && !events.loading ? (
          <p class="muted">The server does not serve the event log.</p>
        ) : (
          <EventsLog
            events={eventList}
            stepNames={new Map(shown.steps.map((s) => [s.stepId, s.name]))}
            more={nextEvents !== null && decrypted === undefined}
            onDecrypt={askDecrypt}
            onMore={async () => {
              if (!nextEvents) return;
              const page = await api.events(runId, nextEvents);
              setMoreEvents((previous) => ({
                events: [...(previous?.events ?? []), ...page.events],
                next: page.nextCursor,
              }));
            }}
          />
        )}
      </section>
    </article>
  );
}
