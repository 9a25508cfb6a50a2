/**
 * How the HTTP handler refuses a request: an `HttpProblem` carries the status, a stable code and a
 * message that says what to do, and becomes the JSON body `{ "error": { "code", "message" } }`.
 * Route code throws problems; the handler turns them (and every other error) into responses in
 * one place (`errors.ts`), so no route builds an error response by hand.
 */

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; issues?: readonly ProblemIssue[] };
}

/** One problem with a request body, with the path of the offending field. */
export interface ProblemIssue {
  path: readonly (string | number)[];
  message: string;
}

/** A request the handler refuses, with the HTTP status to answer it with. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  readonly issues: readonly ProblemIssue[] | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { headers?: Record<string, string>; issues?: readonly ProblemIssue[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HttpProblem";
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.issues = options.issues;
  }
}

/** Headers every JSON response carries: no caching, no content sniffing. */
const JSON_HEADERS: Record<string, string> = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** A JSON response with the handler's standard headers. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** The response for a problem: its status, headers and `{ error: { code, message } }` body. */
export function problemResponse(problem: HttpProblem): Response {
  const body: ErrorBody = { error: { code: problem.code, message: problem.message } };
  if (problem.issues !== undefined) body.error.issues = problem.issues;
  return jsonResponse(problem.status, body, problem.headers);
}
