/**
 * Sends fuzz requests and collects what came back: through fetch (a stream response is read for
 * a moment and then the client disconnects, as an impatient client would), or as raw bytes on a
 * socket (for framing that fetch refuses to produce), reading until the server answers or closes.
 */
import { connect } from "node:net";
import type { FuzzRequest } from "./generate.ts";

export interface Outcome {
  /** HTTP status, or 0 when no response came (client refused to send, connection closed). */
  status: number;
  contentType: string;
  body: string;
  /** Why there was no status. */
  failure?: string;
}

const TIMEOUT_MS = 10_000;

async function readSome(response: Response, controller: AbortController): Promise<string> {
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("ndjson")) return await response.text();
  // A stream may tail forever: read for a moment, then leave.
  const timer = setTimeout(() => controller.abort(), 150);
  try {
    return await response.text();
  } catch {
    return "";
  } finally {
    clearTimeout(timer);
  }
}

/** Sends `request` with fetch. */
export async function sendFetch(origin: string, request: FuzzRequest): Promise<Outcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let url: string;
  try {
    url = new URL(`${origin}${request.target}`).href;
  } catch {
    return { status: 0, contentType: "", body: "", failure: "client-invalid-url" };
  }
  try {
    const init: RequestInit = { method: request.method, headers: request.headers, signal: controller.signal };
    if (request.body !== undefined) init.body = request.body;
    const response = await fetch(url, init);
    const body = await readSome(response, controller);
    return { status: response.status, contentType: response.headers.get("content-type") ?? "", body };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (error instanceof TypeError && cause === undefined)
      return { status: 0, contentType: "", body: "", failure: "client-refused" };
    if (controller.signal.aborted) return { status: 0, contentType: "", body: "", failure: "timeout" };
    return {
      status: 0,
      contentType: "",
      body: "",
      failure: `network:${cause?.code ?? (error as Error).message}`,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Writes raw bytes to the server and parses the status line of whatever comes back. */
export function sendRaw(host: string, port: number, bytes: Uint8Array): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    let received = "";
    const finish = (failure?: string): void => {
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      const headerEnd = received.indexOf("\r\n\r\n");
      const head = headerEnd >= 0 ? received.slice(0, headerEnd) : received;
      const type = /\r\ncontent-type: ([^\r\n]*)/i.exec(head)?.[1] ?? "";
      resolve({
        status: match ? Number(match[1]) : 0,
        contentType: type,
        body: headerEnd >= 0 ? received.slice(headerEnd + 4) : "",
        ...(match ? {} : { failure: failure ?? "raw-closed" }),
      });
    };
    const timer = setTimeout(() => finish("raw-timeout"), 1_000);
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
    });
    socket.on("close", () => {
      clearTimeout(timer);
      finish();
    });
    socket.on("error", () => undefined);
    socket.write(bytes);
  });
}
