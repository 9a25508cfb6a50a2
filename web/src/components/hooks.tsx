/**
 * The run's hooks (`GET /runs/:runId/hooks`; the hook waits of the timeline when that route is not
 * there) with a Resume form each: a JSON payload posted to `POST /hooks/:token`.
 */
import { useState } from "preact/hooks";
import { api } from "../api/client.ts";
import type { HookView } from "../api/types.ts";
import { formatTime } from "../format.ts";
import { JsonForm } from "./json-form.tsx";
import { StatusBadge } from "./status.tsx";

export function HooksPanel(props: { hooks: HookView[]; runEnded: boolean; onChanged: () => void }) {
  if (props.hooks.length === 0) return <p class="muted">No hooks.</p>;
  return (
    <ul class="hooks" data-testid="hooks">
      {props.hooks.map((hook) => (
        <HookItem hook={hook} key={hook.token} runEnded={props.runEnded} onChanged={props.onChanged} />
      ))}
    </ul>
  );
}

function HookItem(props: { hook: HookView; runEnded: boolean; onChanged: () => void }) {
  const { hook } = props;
  const [message, setMessage] = useState<string | undefined>();
  // A hook takes payloads while its run lives and it is not disposed.
  const open = !props.runEnded && hook.kind !== "webhook" && !["disposed", "cancelled"].includes(hook.status);
  return (
    <li class="hook" data-token={hook.token}>
      <div>
        {hook.kind === "webhook" && <span class="muted">webhook </span>}
        <span class="mono token">{hook.token}</span> <StatusBadge status={hook.status} />
        <span class="muted">
          {" "}
          created {formatTime(hook.createdAt)}
          {hook.receivedCount !== undefined && `, received ${hook.receivedCount}`}
        </span>
      </div>
      {open && (
        <JsonForm
          label="Resume"
          initial="{}"
          onSubmit={async (payload) => {
            await api.resumeHook(hook.token, payload);
            setMessage("Payload delivered.");
            props.onChanged();
          }}
        />
      )}
      {message && <p class="ok">{message}</p>}
    </li>
  );
}
