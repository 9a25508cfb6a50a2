/** The run's event log (`GET /runs/:runId/events`), a page at a time, each payload as text. */
import type { EventView } from "../api/types.ts";
import { formatTime, shortName } from "../format.ts";

const SHOWN = new Set(["seq", "type", "at", "stepId", "stepName", "payload", "generation"]);

/** The event's other fields (attempt, token, retryAt, …) as `name=value` text. */
function details(event: EventView): string {
  return Object.entries(event)
    .filter(([name, value]) => !SHOWN.has(name) && value !== undefined)
    .map(([name, value]) => `${name}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
}

import { Value } from "./value.tsx";

export function EventsLog(props: {
  events: EventView[];
  /** Step names by step id (from the timeline). */
  stepNames: ReadonlyMap<string, string>;
  more: boolean;
  onMore: () => void;
  onDecrypt: () => void;
}) {
  return (
    <div>
      <table class="events" data-testid="events">
        <thead>
          <tr>
            <th class="num">#</th>
            <th>Type</th>
            <th>At</th>
            <th>Step</th>
            <th>Details</th>
            <th>Payload</th>
          </tr>
        </thead>
        <tbody>
          {props.events.map((event) => (
            <tr key={event.seq}>
              <td class="num">{event.seq}</td>
              <td class="mono">{event.type}</td>
              <td>{formatTime(event.at, true)}</td>
              <td class="mono" title={event.stepId}>
                {event.stepId ? shortName(props.stepNames.get(event.stepId) ?? event.stepId) : ""}
              </td>
              <td class="mono details">{details(event)}</td>
              <td>
                {event.payload === undefined ? (
                  ""
                ) : (
                  <details>
                    <summary>payload</summary>
                    <Value value={event.payload} onDecrypt={props.onDecrypt} />
                  </details>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.more && (
        <button type="button" onClick={props.onMore}>
          More events
        </button>
      )}
    </div>
  );
}
