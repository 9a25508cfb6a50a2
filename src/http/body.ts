/**
 * Reading request bodies safely: a byte limit enforced before reading (Content-Length) and while
 * reading (chunk by chunk, so an unannounced or lying body is cut off at the limit), strict UTF-8,
 * `application/json` only, and a schema check. Every refusal is an `HttpProblem` (400, 413 or 415)
 * raised before anything is written.
 */
import { HttpProblem } from "./problem.ts";
import type { Schema, SchemaIssue } from "./schema.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function tooLarge(limit: number, what: string): HttpProblem {
  return new HttpProblem(
    413,
    "BODY_TOO_LARGE",
    `${what} is larger than the ${limit} byte limit for this route. Send a smaller body (store large data elsewhere and pass a reference), or raise the handler's limit.`,
  );
}

/** The declared Content-Length, if any. A malformed one is a 400. */
function declaredLength(request: Request): number | undefined {
  const header = request.headers.get("content-length");
  if (header === null) return undefined;
  if (!/^\d{1,15}$/.test(header.trim())) {
    throw new HttpProblem(400, "INVALID_HEADER", `Content-Length "${header}" is not a byte count.`);
  }
  return Number(header.trim());
}

/** Reads the whole body, refusing it (413) as soon as it is known to pass `limit` bytes. */
export async function readBodyBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limit) throw tooLarge(limit, `The body (${declared} bytes)`);
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(limit, "The body");
      }
      parts.push(value);
    }
  } catch (error) {
    if (error instanceof HttpProblem) throw error;
    throw new HttpProblem(
      400,
      "BODY_UNREADABLE",
      "The request body could not be read completely; send it again.",
      {
        cause: error,
      },
    );
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}

/** Refuses (415) a body that is not `application/json` in UTF-8. */
function requireJsonContentType(request: Request): void {
  const header = request.headers.get("content-type");
  const [type = "", ...params] = (header ?? "").split(";").map((part) => part.trim().toLowerCase());
  const charset = params.find((param) => param.startsWith("charset="))?.slice("charset=".length);
  if (type === "application/json" && (charset === undefined || /^"?utf-8"?$/.test(charset))) return;
  throw new HttpProblem(
    415,
    "UNSUPPORTED_MEDIA_TYPE",
    `This route takes a JSON body: send it with "Content-Type: application/json" (UTF-8)${header === null ? "" : `, not "${header.slice(0, 100)}"`}.`,
  );
}

function formatIssues(issues: readonly SchemaIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length === 0 ? "body" : issue.path.join(".")}: ${issue.message}`)
    .join("; ");
}

/**
 * Reads, parses and checks a JSON body against `schema`: 415 for another content type, 413 past
 * `limit` bytes, 400 for bad UTF-8, malformed JSON or a body the schema refuses (with its issues).
 */
export async function readJsonBody<T>(request: Request, schema: Schema<T>, limit: number): Promise<T> {
  requireJsonContentType(request);
  return parseJsonBody(await readBodyBytes(request, limit), schema);
}

/**
 * For routes whose body may be left out: `empty` when no body came (none, or zero bytes, whatever
 * its content type), else the body read as `readJsonBody` does.
 */
export async function readOptionalJsonBody<T>(
  request: Request,
  schema: Schema<T>,
  limit: number,
  empty: T,
): Promise<T> {
  const bytes = await readBodyBytes(request, limit);
  if (bytes.byteLength === 0) return empty;
  requireJsonContentType(request);
  return parseJsonBody(bytes, schema);
}

function parseJsonBody<T>(bytes: Uint8Array, schema: Schema<T>): T {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new HttpProblem(
      400,
      "INVALID_ENCODING",
      "The body is not valid UTF-8; send JSON encoded as UTF-8.",
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof SyntaxError ? ` (${error.message})` : "";
    throw new HttpProblem(400, "INVALID_JSON", `The body is not valid JSON${detail}. Send one JSON object.`);
  }
  const issues: SchemaIssue[] = [];
  const out = schema.check(value, [], issues);
  if (issues.length > 0) {
    throw new HttpProblem(
      400,
      "INVALID_BODY",
      `The body does not have the expected shape: ${formatIssues(issues)}.`,
      {
        issues: issues.slice(0, 20),
      },
    );
  }
  return out;
}
