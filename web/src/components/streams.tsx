/**
 * A run's durable stream, live: `GET /runs/:runId/streams/:name` answers NDJSON and stays open
 * while the run writes; each line is shown as it arrives, and the read stops when the panel goes.
 * The stream is named by the user (`default` is what `getWritable()` writes).
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client.ts";
import { formatJson } from "../format.ts";

interface Chunk {
  index: number;
  value?: unknown;
  base64?: string;
  error?: { code: string; message: string };
}

export function StreamsPanel(props: { runId: string }) {
  const [name, setName] = useState("default");
  const [open, setOpen] = useState<string | undefined>();
  return (
    <div class="streams">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setOpen(name.trim() || "default");
        }}
      >
        <input
          type="text"
          name="stream"
          value={name}
          onInput={(event) => setName(event.currentTarget.value)}
          aria-label="Stream name"
        />
        <button type="submit">Read stream</button>
      </form>
      {open !== undefined && <StreamView runId={props.runId} name={open} key={open} />}
    </div>
  );
}

function StreamView(props: { runId: string; name: string }) {
  const [chunks, setChunks] = useState<Chunk[]>([]);
  const [state, setState] = useState("connecting");
  useEffect(() => {
    const abort = new AbortController();
    (async () => {
      const response = await fetch(api.streamUrl(props.runId, props.name), {
        signal: abort.signal,
        credentials: "same-origin",
      });
      if (!response.ok || !response.body) {
        const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
        setState(body?.error?.message ?? `The server answered ${response.status}.`);
        return;
      }
      setState("live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        const parsed = lines.filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as Chunk);
        if (parsed.length > 0) setChunks((previous) => [...previous, ...parsed]);
      }
      setState("ended");
    })().catch((error: unknown) => {
      if (!abort.signal.aborted) setState(error instanceof Error ? error.message : String(error));
    });
    return () => abort.abort();
  }, [props.runId, props.name]);
  return (
    <div data-testid="stream">
      <p class="muted">
        {props.name}: {state}, {chunks.length} chunk{chunks.length === 1 ? "" : "s"}
      </p>
      <pre class="logs">
        {chunks.map((chunk) =>
          chunk.error
            ? `error ${chunk.error.code}: ${chunk.error.message}\n`
            : `${chunk.index}  ${chunk.base64 !== undefined ? `base64 ${chunk.base64}` : formatJson(chunk.value)}\n`,
        )}
      </pre>
    </div>
  );
}
