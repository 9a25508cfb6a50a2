/**
 * How the remote World talks to a Stepwise server: one POST per operation, JSON both ways (bytes
 * as base64), the bearer secret on every request, kept-alive connections. An answer is checked
 * against the operation's schema before anyone reads it. A server that cannot be reached is a
 * `WorldUnavailableError` (workers back off and retry, as with a database that went away); a
 * refusal becomes the World error it stands for (`protocol/errors.ts`).
 */
import { WorldUnavailableError } from "../../errors/world.ts";
import { ProtocolError, wireToError } from "../../protocol/errors.ts";
import type { Operation } from "../../protocol/operations.ts";
import { decode, encodeJson, formatIssues } from "../../protocol/schema.ts";

export interface Transport {
  /** `…/protocol/v1` on the server. */
  readonly base: string;
  readonly headers: Record<string, string>;
  call<Req, Res>(operation: Operation<Req, Res>, body: Req, signal?: AbortSignal): Promise<Res>;
}

/** The text of a failed fetch: its cause's code and message where Node gives one. */
function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code !== undefined) return `${cause.code}${cause.message ? `: ${cause.message}` : ""}`;
  return error instanceof Error ? error.message : String(error);
}

export function createTransport(base: string, secret: string, where: string): Transport {
  const headers = { authorization: `Bearer ${secret}` };
  return {
    base,
    headers,
    async call(operation, body, signal) {
      let response: Response;
      try {
        response = await fetch(`${base}/${operation.path}`, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: encodeJson(body),
          ...(signal === undefined ? {} : { signal }),
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new WorldUnavailableError(
          `The Stepwise server at ${where} cannot be reached (${reason(error)}). Start it (\`npx stepwise server\`) or check STEPWISE_WORLD; workers retry with backoff until it answers.`,
          { cause: error },
        );
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw new WorldUnavailableError(
          `The connection to the Stepwise server at ${where} broke while it answered ${operation.path} (${reason(error)}). The call may have taken effect; read before writing again.`,
          { cause: error },
        );
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new ProtocolError(
          response.status,
          "INVALID_ANSWER",
          `The server at ${where} answered ${operation.path} with ${response.status} and a body that is not JSON (${text.slice(0, 200)}). Is STEPWISE_WORLD the address of a Stepwise server?`,
        );
      }
      if (!response.ok) {
        const error = (value as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
        if (typeof error?.code !== "string" || typeof error.message !== "string") {
          throw new ProtocolError(
            response.status,
            "INVALID_ANSWER",
            `The server at ${where} refused ${operation.path} with ${response.status} and no error body.`,
          );
        }
        throw wireToError(response.status, {
          code: error.code,
          message: error.message,
          details: error.details,
        });
      }
      const decoded = decode(operation.response, value);
      if ("issues" in decoded) {
        throw new ProtocolError(
          response.status,
          "INVALID_ANSWER",
          `The server at ${where} answered ${operation.path} with something this client does not understand (${formatIssues(decoded.issues)}). Are the server and this worker the same Stepwise version?`,
        );
      }
      return decoded.value;
    },
  };
}
