/**
 * The selected step: its attempts (outcome, duration, retry time, error with stack), its input,
 * output and error, and the console lines its attempts logged (`GET /runs/:runId/logs`).
 */
import type { LogLine, StepView } from "../api/types.ts";
import { between, formatDuration, formatTime, shortName } from "../format.ts";
import { LogLines } from "./log-lines.tsx";
import { StatusBadge } from "./status.tsx";
import { ErrorValue, Value } from "./value.tsx";

export function StepDetail(props: { step: StepView; logs: LogLine[] | undefined; onDecrypt: () => void }) {
  const { step, logs } = props;
  const mine = logs?.filter((line) => line.stepId === step.stepId) ?? [];
  return (
    <section class="step-detail" data-testid="step-detail">
      <h2>
        Step <span class="mono">{shortName(step.name)}</span>
      </h2>
      <p class="muted mono">
        {step.name} · {step.stepId}
      </p>
      <table class="attempts">
        <thead>
          <tr>
            <th>Attempt</th>
            <th>Outcome</th>
            <th>Started</th>
            <th>Duration</th>
            <th>Retry at</th>
          </tr>
        </thead>
        <tbody>
          {step.attempts.map((attempt) => (
            <tr key={attempt.attempt}>
              <td>{attempt.attempt}</td>
              <td>
                <StatusBadge status={attempt.outcome} />
              </td>
              <td>{formatTime(attempt.startedAt)}</td>
              <td>{formatDuration(between(attempt.startedAt, attempt.endedAt))}</td>
              <td>{attempt.retryAt ? formatTime(attempt.retryAt) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {step.attempts
        .filter((attempt) => attempt.error !== undefined)
        .map((attempt) => (
          <div key={attempt.attempt} class="attempt-error">
            <h3>Attempt {attempt.attempt} error</h3>
            <ErrorValue error={attempt.error} onDecrypt={props.onDecrypt} />
          </div>
        ))}
      <h3>Input</h3>
      <Value value={step.input} onDecrypt={props.onDecrypt} />
      {step.output !== undefined && (
        <>
          <h3>Output</h3>
          <Value value={step.output} onDecrypt={props.onDecrypt} />
        </>
      )}
      {step.error !== undefined && (
        <>
          <h3>Error</h3>
          <ErrorValue error={step.error} onDecrypt={props.onDecrypt} />
        </>
      )}
      <h3>Logs</h3>
      {mine.length === 0 ? <p class="muted">No logs.</p> : <LogLines lines={mine} testId="step-logs" />}
    </section>
  );
}
