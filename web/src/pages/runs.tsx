/**
 * The runs page: a table of runs (newest first) with filters (status, workflow, language, time
 * range), a search box (a run id or a hook token), paging by cursor, and live updates — on a
 * `run` hint the first page is fetched again (a new run appears), a later page updates the
 * statuses of the runs it shows. Filters live in the URL so a filtered view can be shared.
 */
import { useState } from "preact/hooks";
import { api } from "../api/client.ts";
import { useLive } from "../api/live.ts";
import { RUN_STATUSES, type RunStatus, type RunView } from "../api/types.ts";
import { Link } from "../components/link.tsx";
import { StatusBadge } from "../components/status.tsx";
import { useFetch } from "../components/use-fetch.ts";
import { between, formatDuration, formatTime, shortName } from "../format.ts";
import { navigate, runHref } from "../router.ts";

const RANGES: Record<string, number> = {
  "1h": 3_600_000,
  "24h": 86_400_000,
  "7d": 604_800_000,
  "30d": 2_592_000_000,
};

export function RunsPage(props: { search: URLSearchParams }) {
  const search = props.search;
  const status = search.getAll("status");
  const workflow = search.get("workflow") ?? "";
  const language = search.get("language") ?? "";
  const range = search.get("range") ?? "";
  const q = search.get("q") ?? "";
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const key = search.toString();
  const [overrides, setOverrides] = useState<Record<string, RunStatus>>({});

  const page = useFetch(() => {
    const since =
      RANGES[range] !== undefined ? new Date(Date.now() - (RANGES[range] ?? 0)).toISOString() : undefined;
    return api.runs({
      status,
      workflow,
      language,
      q,
      limit: 50,
      ...(since ? { since } : {}),
      ...(search.get("since") ? { since: search.get("since") ?? "" } : {}),
      ...(search.get("until") ? { until: search.get("until") ?? "" } : {}),
      ...(cursor ? { cursor } : {}),
    });
  }, [key, cursor]);

  useLive(undefined, (hints) => {
    if (cursor === undefined) {
      setOverrides({});
      page.reload();
      return;
    }
    const shown = new Set(page.value?.runs.map((run) => run.runId));
    const next: Record<string, RunStatus> = {};
    for (const hint of hints) if (hint.status && shown.has(hint.runId)) next[hint.runId] = hint.status;
    if (Object.keys(next).length > 0) setOverrides((previous) => ({ ...previous, ...next }));
  });

  const update = (changes: Record<string, string | string[] | undefined>) => {
    const next = new URLSearchParams(search);
    for (const [name, value] of Object.entries(changes)) {
      next.delete(name);
      for (const item of Array.isArray(value) ? value : value ? [value] : []) next.append(name, item);
    }
    setCursors([]);
    const text = next.toString();
    navigate(text === "" ? "/" : `/?${text}`, true);
  };

  return (
    <section>
      <h1>Runs</h1>
      <Filters
        status={status}
        workflow={workflow}
        language={language}
        range={range}
        since={search.get("since") ?? ""}
        until={search.get("until") ?? ""}
        q={q}
        onChange={update}
      />
      {page.error && (
        <p class="error" role="alert">
          {page.error.message}
        </p>
      )}
      <table class="runs" data-testid="runs-table">
        <thead>
          <tr>
            <th>Run</th>
            <th>Workflow</th>
            <th>Language</th>
            <th>Status</th>
            <th>Created</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {page.value?.runs.map((run) => (
            <RunRow run={run} status={overrides[run.runId] ?? run.status} key={run.runId} />
          ))}
        </tbody>
      </table>
      {page.value && page.value.runs.length === 0 && <p class="empty">No runs match.</p>}
      <div class="pager">
        <button
          type="button"
          disabled={cursors.length === 0}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          Newer
        </button>
        <button
          type="button"
          disabled={!page.value?.nextCursor}
          onClick={() => {
            const next = page.value?.nextCursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Older
        </button>
      </div>
    </section>
  );
}

function RunRow(props: { run: RunView; status: RunStatus }) {
  const { run } = props;
  const ended = run.completedAt ?? undefined;
  const duration = run.startedAt ? between(run.startedAt, ended) : null;
  return (
    <tr data-run-id={run.runId}>
      <td class="mono">
        <Link href={runHref(run.runId)}>{run.runId}</Link>
      </td>
      <td title={run.workflowName}>{shortName(run.workflowName)}</td>
      <td>{run.language ?? "—"}</td>
      <td>
        <StatusBadge status={props.status} />
      </td>
      <td>{formatTime(run.createdAt)}</td>
      <td>{formatDuration(duration)}</td>
    </tr>
  );
}

interface FilterProps {
  status: string[];
  workflow: string;
  language: string;
  range: string;
  /** Custom bounds on the creation time (ISO), instead of a range. */
  since: string;
  until: string;
  q: string;
  onChange(changes: Record<string, string | string[] | undefined>): void;
}

function Filters(props: FilterProps) {
  const [q, setQ] = useState(props.q);
  const [workflow, setWorkflow] = useState(props.workflow);
  return (
    <div class="filters">
      <form
        class="search"
        onSubmit={(event) => {
          event.preventDefault();
          props.onChange({ q: q.trim() || undefined, workflow: workflow.trim() || undefined });
        }}
      >
        <input
          type="search"
          name="q"
          placeholder="Run id or hook token"
          value={q}
          onInput={(event) => setQ(event.currentTarget.value)}
        />
        <input
          type="text"
          name="workflow"
          placeholder="Workflow"
          value={workflow}
          onInput={(event) => setWorkflow(event.currentTarget.value)}
        />
        <button type="submit">Search</button>
      </form>
      <fieldset class="statuses">
        {RUN_STATUSES.map((status) => (
          <label key={status}>
            <input
              type="checkbox"
              name="status"
              value={status}
              checked={props.status.includes(status)}
              onChange={(event) =>
                props.onChange({
                  status: event.currentTarget.checked
                    ? [...props.status, status]
                    : props.status.filter((s) => s !== status),
                })
              }
            />
            {status}
          </label>
        ))}
      </fieldset>
      <select
        name="language"
        value={props.language}
        onChange={(event) => props.onChange({ language: event.currentTarget.value || undefined })}
      >
        <option value="">Any language</option>
        <option value="typescript">TypeScript</option>
        <option value="python">Python</option>
      </select>
      <select
        name="range"
        value={props.range}
        onChange={(event) => {
          const range = event.currentTarget.value;
          // A preset replaces custom bounds; "Between…" keeps them.
          props.onChange({
            range: range || undefined,
            ...(range === "custom" ? {} : { since: undefined, until: undefined }),
          });
        }}
      >
        <option value="">Any time</option>
        <option value="1h">Last hour</option>
        <option value="24h">Last 24 hours</option>
        <option value="7d">Last 7 days</option>
        <option value="30d">Last 30 days</option>
        <option value="custom">Between…</option>
      </select>
      {(props.range === "custom" || props.since || props.until) && (
        <span class="between">
          <input
            type="datetime-local"
            name="since"
            aria-label="Created from"
            value={toLocalInput(props.since)}
            onChange={(event) => props.onChange({ since: fromLocalInput(event.currentTarget.value) })}
          />
          <span class="muted">to</span>
          <input
            type="datetime-local"
            name="until"
            aria-label="Created before"
            value={toLocalInput(props.until)}
            onChange={(event) => props.onChange({ until: fromLocalInput(event.currentTarget.value) })}
          />
        </span>
      )}
    </div>
  );
}

/** An ISO time as the value of a `datetime-local` input (local time, to the minute). */
function toLocalInput(iso: string): string {
  const date = new Date(iso);
  if (iso === "" || Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/** A `datetime-local` value (local time) as ISO, or nothing when it is empty. */
function fromLocalInput(value: string): string | undefined {
  if (value === "") return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
