/** The run's event log (`GET /runs/:runId/events`), a page at a time, each payload as text. */
import type { EventView } from "../api/types.ts";
import { formatTime } from "../format.ts";
import { Value } from "./value.tsx";

export function EventsLog(props: {
  events: EventView[];
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
            <th>Payload</th>
          </tr>
        </thead>
        <tbody>
          {props.events.map((event) => (
            <tr key={event.seq}>
              <td class="num">{event.seq}</td>
              <td class="mono">{event.type}</td>
              <td>{formatTime(event.at)}</td>
              <td class="mono">{event.stepId ?? ""}</td>
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
