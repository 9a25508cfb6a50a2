"use client";
// Reads the run's stream (NDJSON, one chunk per line) and shows each line as it arrives;
// reconnects from the next index if the connection drops. The button resumes the approval hook.
import { useEffect, useState, useTransition } from "react";
import { approveAction } from "../../actions";

export function Progress({ runId, orderId }) {
  const [lines, setLines] = useState([]);
  const [ended, setEnded] = useState(false);
  const [pending, startTransition] = useTransition();

  useEffect(() => {
    const controller = new AbortController();
    let next = 0;
    async function follow() {
      while (!controller.signal.aborted) {
        const response = await fetch(`/runs/${encodeURIComponent(runId)}/stream?startIndex=${next}`, {
          signal: controller.signal,
        });
        if (!response.ok || response.body === null) throw new Error(`stream: HTTP ${response.status}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        let failed = false;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += value;
          let newline = buffer.indexOf("\n");
          while (newline >= 0) {
            const chunk = JSON.parse(buffer.slice(0, newline));
            buffer = buffer.slice(newline + 1);
            newline = buffer.indexOf("\n");
            if (chunk.error) failed = true;
            else {
              next = chunk.index + 1;
              setLines((previous) => [...previous, String(chunk.value)]);
            }
          }
        }
        if (!failed) break; // the stream ended with the run
      }
      setEnded(true);
    }
    follow().catch((error) => {
      if (!controller.signal.aborted) setLines((previous) => [...previous, `error: ${error.message}`]);
    });
    return () => controller.abort();
  }, [runId]);

  const waiting = lines.at(-1) === "waiting for approval";
  return (
    <section>
      <ol id="progress">
        {lines.map((line, index) => (
          <li key={index}>{line}</li>
        ))}
      </ol>
      <button
        id="approve"
        type="button"
        disabled={!waiting || pending}
        onClick={() => startTransition(() => approveAction(orderId))}
      >
        Approve
      </button>
      {ended && <p id="ended">The run has ended.</p>}
    </section>
  );
}
