/**
 * A run's durable stream, live: `GET /runs/:runId/streams/:name` answers NDJSON and stays open
 * while the run writes; each line is shown as it arrives, and the read stops when the panel goes.
 * The run's streams are listed (`GET /runs/:runId/streams`, re-read when the page's live hints
 * arrive: `version` changes) and each can be opened with one click; a name can also be typed
 * (`default` is what `getWritable()` writes), for a stream the run has not written yet.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client.ts";
import { formatJson } from "../format.ts";
import { useFetch } from "./use-fetch.ts";

interface Chunk {
  index: number;
  value?: unknown;
  base64?: string;
  error?: { code: string; message: string };
}

export function StreamsPanel(props: { runId: string; version?: number }) {
  const [name, setName] = useState("default");
  const [open, setOpen] = useState<string | undefined>();
  const known = useFetch(() => api.streams(props.runId), [props.runId, props.version]);
  return (
    <div class="streams">
      {known.value !== undefined && known.value.length > 0 && (
        <ul class="stream-list" data-testid="stream-list">
          {known.value.map((stream) => (
            <li key={stream.name}>
              <button type="button" data-stream={stream.name} onClick={() => setOpen(stream.name)}>
                {stream.name}
              </button>{" "}
              <span class="muted">
                {stream.length} chunk{stream.length === 1 ? "" : "s"}
                {stream.closed ? ", closed" : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
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
