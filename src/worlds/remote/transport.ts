/**
 * How the remote World talks to a Stepwise server: one POST per operation, JSON both ways (bytes
 * as base64), the bearer secret on every request, kept-alive connections (node:http). An answer is checked
 * against the operation's schema before anyone reads it. A server that cannot be reached is a
 * `WorldUnavailableError` (workers back off and retry, as with a database that went away); a
 * refusal becomes the World error it stands for (`protocol/errors.ts`).
 */
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { WorldUnavailableError } from "../../errors/world.ts";
import { ProtocolError, wireToError } from "../../protocol/errors.ts";
import type { Operation } from "../../protocol/operations.ts";
import { decode, encodeJson, formatIssues } from "../../protocol/schema.ts";

export interface Transport {
  /** `…/protocol/v1` on the server. */
  readonly base: string;
  readonly headers: Record<string, string>;
  call<Req, Res>(operation: Operation<Req, Res>, body: Req, signal?: AbortSignal): Promise<Res>;
  /** Closes the kept-alive connections. */
  close(): void;
}

/** The text of a failed fetch: its cause's code and message where Node gives one. */
function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code !== undefined) return `${cause.code}${cause.message ? `: ${cause.message}` : ""}`;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The longest a call may take before it counts as failed (long polls ask for at most 60 s). */
const CALL_TIMEOUT_MS = 120_000;

/** One POST with a kept-alive connection: status and body text, or the network error. */
function post(
  url: URL,
  agent: HttpAgent,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal | undefined,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: "POST",
        agent,
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        timeout: CALL_TIMEOUT_MS,
        ...(signal === undefined ? {} : { signal }),
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (chunk: Buffer) => parts.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString("utf8") }),
        );
        res.on("error", (error) => reject(Object.assign(error, { answered: true })));
      },
    );
    req.setNoDelay(true); // small requests go out at once, not after the last one's ACK (Nagle)
    req.on("timeout", () => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS / 1000} s`)));
    req.on("error", reject);
    req.end(body);
  });
}

// node:http rather than fetch: on a kept-alive connection a call costs a few hundred microseconds
// where fetch costs several times that (bench/remote.mjs), and idle connections are unref'd, so
// they never keep a process alive.
export function createTransport(base: string, secret: string, where: string): Transport {
  const headers = { authorization: `Bearer ${secret}` };
  const agent = base.startsWith("https:")
    ? new HttpsAgent({ keepAlive: true, maxSockets: 64 })
    : new HttpAgent({ keepAlive: true, maxSockets: 64 });
  return {
    base,
    headers,
    async call(operation, body, signal) {
      let status: number;
      let text: string;
      try {
        ({ status, text } = await post(
          new URL(`${base}/${operation.path}`),
          agent,
          { ...headers, "content-type": "application/json" },
          encodeJson(body),
          signal,
        ));
      } catch (error) {
        if (signal?.aborted) throw error;
        const answered = (error as { answered?: boolean }).answered === true;
        throw new WorldUnavailableError(
          answered
            ? `The connection to the Stepwise server at ${where} broke while it answered ${operation.path} (${reason(error)}). The call may have taken effect; read before writing again.`
            : `The Stepwise server at ${where} cannot be reached (${reason(error)}). Start it (\`npx stepwise server\`) or check STEPWISE_WORLD; workers retry with backoff until it answers.`,
          { cause: error },
        );
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new ProtocolError(
          status,
          "INVALID_ANSWER",
          `The server at ${where} answered ${operation.path} with ${status} and a body that is not JSON (${text.slice(0, 200)}). Is STEPWISE_WORLD the address of a Stepwise server?`,
        );
      }
      if (status < 200 || status >= 300) {
        const error = (value as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
        if (typeof error?.code !== "string" || typeof error.message !== "string") {
          throw new ProtocolError(
            status,
            "INVALID_ANSWER",
            `The server at ${where} refused ${operation.path} with ${status} and no error body.`,
          );
        }
        throw wireToError(status, { code: error.code, message: error.message, details: error.details });
      }
      const decoded = decode(operation.response, value);
      if ("issues" in decoded) {
        throw new ProtocolError(
          status,
          "INVALID_ANSWER",
          `The server at ${where} answered ${operation.path} with something this client does not understand (${formatIssues(decoded.issues)}). Are the server and this worker the same Stepwise version?`,
        );
      }
      return decoded.value;
    },
    close() {
      agent.destroy();
    },
  };
}
