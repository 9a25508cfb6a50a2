/**
 * A run's controls: cancel, pause, resume, restart (from the start or from a step the run called),
 * and sending an event with a JSON payload — each the run API's existing POST route. The outcome
 * or the server's refusal is shown beside them; the page re-fetches through its live hints.
 */
import { useState } from "preact/hooks";
import { api } from "../api/client.ts";
import type { RunView, StepView } from "../api/types.ts";
import { shortName } from "../format.ts";
import { JsonForm } from "./json-form.tsx";

const ENDED = new Set(["completed", "failed", "cancelled"]);

export function RunActions(props: { run: RunView; steps: StepView[]; onChanged: () => void }) {
  const { run } = props;
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  const [from, setFrom] = useState("");
  const [eventType, setEventType] = useState("");
  const ended = ENDED.has(run.status);
  const paused = run.status === "paused" || run.status === "pausing";
  const act = (what: string, call: () => Promise<unknown>) => async () => {
    setMessage(undefined);
    try {
      await call();
      setMessage({ ok: true, text: `${what}: requested.` });
    } catch (error) {
      setMessage({ ok: false, text: error instanceof Error ? error.message : String(error) });
    }
    props.onChanged();
  };
  const names = [...new Set(props.steps.map((step) => step.name))];
  return (
    <div class="actions" data-testid="run-actions">
      <div class="buttons">
        <button type="button" disabled={ended} onClick={act("Cancel", () => api.cancel(run.runId))}>
          Cancel
        </button>
        <button type="button" disabled={ended || paused} onClick={act("Pause", () => api.pause(run.runId))}>
          Pause
        </button>
        <button type="button" disabled={!paused} onClick={act("Resume", () => api.resume(run.runId))}>
          Resume
        </button>
        <span class="restart">
          <select name="from" value={from} onChange={(event) => setFrom(event.currentTarget.value)}>
            <option value="">from the start</option>
            {names.map((name) => (
              <option value={name} key={name}>
                from step {shortName(name)}
              </option>
            ))}
          </select>
          <button
            type="button"
            onClick={act("Restart", () => api.restart(run.runId, from === "" ? undefined : from))}
          >
            Restart
          </button>
        </span>
      </div>
      {!ended && (
        <details class="send-event">
          <summary>Send an event</summary>
          <JsonForm
            label="Send event"
            initial="{}"
            onSubmit={async (payload) => {
              await api.sendEvent(run.runId, eventType, payload);
              setMessage({ ok: true, text: `Event ${eventType} sent.` });
              props.onChanged();
            }}
          >
            <input
              type="text"
              name="type"
              placeholder="event type"
              required
              value={eventType}
              onInput={(event) => setEventType(event.currentTarget.value)}
            />
          </JsonForm>
        </details>
      )}
      {message && (
        <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>
          {message.text}
        </p>
      )}
    </div>
  );
}
