/**
 * The trace timeline: a Gantt chart (CSS: rows of absolutely placed bars, positioned in percent
 * of the run's span, so it needs no inline styles in markup) with a time axis. One row per step
 * with a bar per attempt and the retry delay after a failed one, one per sleep, hook and event
 * wait, one per child run; restarts (generations) are vertical markers. Clicking a step's row
 * selects it.
 */
import type { AttemptView, Timeline, WaitView } from "../api/types.ts";
import { formatDuration, shortName } from "../format.ts";
import { runHref } from "../router.ts";
import { Link } from "./link.tsx";

interface Bar {
  start: number;
  end: number;
  kind: string;
  title: string;
  attempt?: number;
}

interface Row {
  key: string;
  label: string;
  kind: "step" | "wait" | "child";
  bars: Bar[];
  stepId?: string;
  childRunId?: string;
  /** Text after the row's last bar: a step's time from its first attempt to its end. */
  note?: string;
}

const ms = (iso: string | null | undefined, fallback: number): number => {
  if (!iso) return fallback;
  const value = Date.parse(iso);
  return Number.isNaN(value) ? fallback : value;
};

/**
 * An attempt's bar, and after a failed one the retry delay: until its `retryAt`, or until the next
 * attempt began if that was sooner (the worker's clock may run a few ms ahead of the one that set
 * `retryAt`; the wait that happened is what is drawn).
 */
function attemptBars(attempt: AttemptView, next: AttemptView | undefined, now: number): Bar[] {
  const start = ms(attempt.startedAt, now);
  const end = ms(attempt.endedAt, now);
  const bars: Bar[] = [
    {
      start,
      end,
      kind: `attempt outcome-${attempt.outcome.replace(/[^a-z_]/g, "")}`,
      title: `attempt ${attempt.attempt}: ${attempt.outcome}, ${formatDuration(end - start)}`,
      attempt: attempt.attempt,
    },
  ];
  if (attempt.retryAt) {
    const retry = Math.min(
      ms(attempt.retryAt, end),
      next ? ms(next.startedAt, now) : Number.POSITIVE_INFINITY,
    );
    if (retry > end)
      bars.push({
        start: end,
        end: retry,
        kind: "delay",
        title: `retry delay ${formatDuration(retry - end)}`,
      });
  }
  return bars;
}

/** `sleep`, `event payment.received`, `hook <token>`. */
function waitLabel(wait: WaitView): string {
  if (wait.kind === "hook") return `${wait.name} ${wait.token ?? wait.id}`;
  if (wait.kind === "event") return `event ${wait.name}`;
  return wait.kind === wait.name ? wait.kind : `${wait.kind} ${wait.name}`;
}

/** The rows of a timeline, in the order the run met them. */
export function timelineRows(timeline: Timeline, now: number): Row[] {
  const rows: Array<Row & { at: number }> = [];
  for (const step of timeline.steps) {
    const first = step.attempts[0];
    rows.push({
      key: `step:${step.stepId}`,
      label: shortName(step.name),
      kind: "step",
      stepId: step.stepId,
      at: ms(first?.startedAt, now),
      bars: step.attempts.flatMap((attempt, index) => attemptBars(attempt, step.attempts[index + 1], now)),
      note: first
        ? `${formatDuration(ms(step.attempts.at(-1)?.endedAt, now) - ms(first.startedAt, now))}${step.attempts.length > 1 ? `, ${step.attempts.length} attempts` : ""}`
        : undefined,
    });
  }
  for (const wait of timeline.waits) {
    const start = ms(wait.startedAt, now);
    const end = ms(wait.endedAt, now);
    rows.push({
      key: `wait:${wait.id}`,
      label: waitLabel(wait),
      kind: "wait",
      at: start,
      bars: [
        {
          start,
          end,
          kind: `wait wait-${wait.kind.replace(/[^a-z]/g, "")}`,
          title: `${waitLabel(wait)}: ${wait.outcome ?? (wait.endedAt ? "completed" : "waiting")}, ${formatDuration(end - start)}`,
        },
      ],
    });
  }
  for (const child of timeline.children) {
    const start = ms(child.startedAt, now);
    const end = ms(child.endedAt, now);
    rows.push({
      key: `child:${child.runId}`,
      label: `child ${shortName(child.workflowName)}`,
      kind: "child",
      childRunId: child.runId,
      at: start,
      bars: [{ start, end, kind: `child status-${child.status}`, title: `${child.runId}: ${child.status}` }],
    });
  }
  return rows.sort((a, b) => a.at - b.at);
}

/** Round tick spacing: 1, 2 or 5 times a power of ten milliseconds, about six ticks. */
function tickStep(span: number): number {
  const raw = span / 6;
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const factor of [1, 2, 5, 10]) if (power * factor >= raw) return power * factor;
  return power * 10;
}

export function TimelineChart(props: {
  timeline: Timeline;
  selected?: string;
  onSelect(stepId: string): void;
}) {
  const { timeline } = props;
  const now = Date.now();
  const rows = timelineRows(timeline, now);
  const starts = rows.flatMap((row) => row.bars.map((bar) => bar.start));
  const ends = rows.flatMap((row) => row.bars.map((bar) => bar.end));
  const t0 = Math.min(ms(timeline.run.createdAt, now), ...starts);
  const runEnd = timeline.run.completedAt ? ms(timeline.run.completedAt, now) : now;
  const t1 = Math.max(runEnd, ...ends, t0 + 1);
  const span = t1 - t0;
  const pct = (t: number) => `${(((t - t0) / span) * 100).toFixed(3)}%`;
  const width = (a: number, b: number) => `${((Math.max(b - a, 0) / span) * 100).toFixed(3)}%`;
  const step = tickStep(span);
  const ticks: number[] = [];
  for (let t = 0; t <= span; t += step) ticks.push(t);

  if (rows.length === 0) return <p class="empty">No steps yet.</p>;
  return (
    <div class="gantt" data-testid="timeline">
      <div class="gantt-row gantt-axis">
        <div class="gantt-label" />
        <div class="gantt-track">
          {ticks.map((t) => (
            <span class="tick" key={t} style={{ left: pct(t0 + t) }}>
              {formatDuration(t)}
            </span>
          ))}
        </div>
      </div>
      {rows.map((row) => (
        <div
          key={row.key}
          class={`gantt-row row-${row.kind}${row.stepId && row.stepId === props.selected ? " selected" : ""}`}
          data-step={row.kind === "step" ? row.label : undefined}
          data-step-id={row.stepId}
        >
          <div class="gantt-label" title={row.label}>
            {row.childRunId ? (
              <Link href={runHref(row.childRunId)}>{row.label}</Link>
            ) : row.stepId ? (
              <button type="button" class="step-button" onClick={() => props.onSelect(row.stepId as string)}>
                {row.label}
              </button>
            ) : (
              row.label
            )}
          </div>
          <div class="gantt-track">
            {timeline.generations.slice(1).map((generation) => (
              <span
                class="generation"
                key={generation.generation}
                style={{ left: pct(ms(generation.startedAt, now)) }}
                title={`generation ${generation.generation}`}
              />
            ))}
            {row.bars.map((bar) => (
              <span
                key={`${bar.kind}:${bar.attempt ?? ""}:${bar.start}`}
                class={`bar ${bar.kind}`}
                data-attempt={bar.attempt}
                title={bar.title}
                style={{ left: pct(bar.start), width: width(bar.start, bar.end) }}
              />
            ))}
            {row.note && (
              <span class="bar-note" style={{ left: pct(Math.max(...row.bars.map((bar) => bar.end))) }}>
                {row.note}
              </span>
            )}
          </div>
        </div>
      ))}
    </div>
  );
}
