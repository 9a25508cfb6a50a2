/**
 * The line `npx stepwise worker` prints each time it stops driving a run, from the Worker's
 * `RunReport`: how the run ended (`completed`, `failed (FatalError: …)`, `cancelled`), what it
 * waits for (`waiting (sleep until …)`, `waiting (event "approval" until …)`, `waiting (hook …)`,
 * `retrying step charge (attempt 2, in 5s)`), or why it was handed on. Each says what is true of
 * the run, never a bare "finished".
 */
import type { RunReport } from "../runtime/worker.ts";
import { formatDuration, formatTime, shortName } from "./table.ts";

/** What the report says about the run, e.g. `failed (FatalError: not allowed)`. */
export function describeRunReport(report: RunReport, now: number = Date.now()): string {
  switch (report.outcome) {
    case "finished": {
      const ended = report.ended;
      if (ended === undefined) return "ended";
      if (ended.status === "failed") return `failed (${ended.error.name}: ${ended.error.message})`;
      return ended.status;
    }
    case "suspended": {
      const waiting = report.waiting;
      if (waiting === undefined) return "waiting";
      const parts: string[] = [];
      for (const retry of waiting.retries)
        parts.push(
          `retrying step ${shortName(retry.stepName)} (attempt ${retry.nextAttempt}, in ${formatDuration(now, Math.max(now, retry.retryAt))})`,
        );
      const waits = [
        ...waiting.events.map((wait) => `event "${wait.eventType}" until ${formatTime(wait.timeoutAt)}`),
        ...waiting.hooks.map((hookId) => `hook ${hookId}`),
        ...waiting.sleeps.slice(0, 1).map((at) => `sleep until ${formatTime(at)}`),
      ];
      if (waiting.sleeps.length > 1) waits.push(`${waiting.sleeps.length - 1} more sleep(s)`);
      if (waits.length > 0) parts.push(`waiting (${waits.join(", ")})`);
      return parts.length > 0 ? parts.join("; ") : "waiting";
    }
    case "stopped":
      return "handed back (this worker is stopping)";
    case "deferred":
      return report.unavailableStep === undefined
        ? "handed back (this worker cannot read one of its payloads)"
        : `handed back (it calls step ${shortName(report.unavailableStep)}, which is not in this worker's code; it waits for a worker that has it)`;
    case "lost":
      return "lost (another worker has taken it over)";
    case "paused":
      return "paused (resume it with npx stepwise resume)";
  }
}

/** The whole log line: time, run, workflow, what happened, and the steps completed here (if any). */
export function workerLogLine(report: RunReport, now: number = Date.now()): string {
  const steps = report.stepsCompleted;
  const done = steps === 0 ? "" : `; ${steps} step${steps === 1 ? "" : "s"} completed here`;
  return `${new Date(now).toISOString()} ${report.runId} ${shortName(report.workflowName)}: ${describeRunReport(report, now)}${done}`;
}
