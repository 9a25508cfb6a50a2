/**
 * `createHandler()`: the whole HTTP surface of Stepwise as one `(Request) => Promise<Response>`.
 * For each request: find the route under the base path, require the API secret unless the route
 * is a webhook URL (before saying whether the route exists, so an unauthenticated caller learns
 * nothing), check the method, decode the path parameters, and run the route. Whatever is thrown
 * becomes a JSON error response (`errors.ts`); nothing escapes to the server.
 */
import type { Authentication, Guard } from "./auth.ts";
import { toProblem } from "./errors.ts";
import { closeLiveStreams } from "./live.ts";
import { type HandlerOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { HttpProblem, problemResponse } from "./problem.ts";
import { decodeParams, matchPath, type Route, splitPath } from "./router.ts";
import { routes } from "./routes/index.ts";
import { requireSameOrigin } from "./session.ts";

/** The handler: a fetch-style function, plus the base path adapters need to mount it. */
export interface StepwiseHandler {
  (request: Request): Promise<Response>;
  /** Where the routes live, e.g. `/stepwise` (`""` for the root). */
  readonly basePath: string;
  /**
   * Ends the open `GET /live` streams at once and refuses new ones (503): call it when the server
   * shuts down, so those streams do not hold it for its grace period. Other routes keep working.
   */
  close(): void;
}

/** The path below the base path, or undefined when the request is for somewhere else. */
function relativePath(pathname: string, basePath: string): string | undefined {
  if (basePath === "") return pathname;
  if (pathname === basePath) return "";
  return pathname.startsWith(`${basePath}/`) ? pathname.slice(basePath.length) : undefined;
}

function notFound(what: string): HttpProblem {
  return new HttpProblem(404, "ROUTE_NOT_FOUND", `${what} See docs/http.md for the routes.`);
}

/** Picks the route for the request, checking the secret and the method (throws problems). */
function selectRoute(
  request: Request,
  url: URL,
  options: ResolvedOptions,
  guard: Guard,
): { route: Route<ResolvedOptions>; params: Record<string, string>; auth: Authentication | undefined } {
  const rest = relativePath(url.pathname, options.basePath);
  if (rest === undefined)
    throw notFound(`Stepwise serves its routes under ${options.basePath || "/"}; this path is outside it.`);
  const match = matchPath(routes, splitPath(rest));
  const open = match?.routes.every((route) => !route.guarded) === true;
  const auth = open ? undefined : guard.check(request);
  if (match === undefined) throw notFound(`No route ${url.pathname} exists.`);
  const route = match.routes.find((r) => r.method === "*" || r.method === request.method);
  if (route === undefined) {
    const allow = match.routes.map((r) => r.method).join(", ");
    throw new HttpProblem(
      405,
      "METHOD_NOT_ALLOWED",
      `${url.pathname} accepts ${allow}, not ${request.method}.`,
      {
        headers: { allow },
      },
    );
  }
  // A browser sends the session cookie with any request, a forged cross-site one too: a change
  // authenticated by the cookie alone must come from a page of this site (session.ts).
  if (auth === "cookie" && request.method !== "GET" && request.method !== "HEAD")
    requireSameOrigin(request, url);
  return { route, params: decodeParams(match.rawParams), auth };
}

/**
 * Creates the handler. Options (all optional): `basePath` (default `/stepwise`), `secret` (default
 * `STEPWISE_HTTP_SECRET`), body limits, long-poll and cancel waits, and `onError` for unexpected
 * failures. The run API uses the process's World and worker (`stepwise-workflows/api`: `configure()`, or the
 * environment). A handler without a secret answers 503 on every route but webhook URLs.
 */
export function createHandler(options: HandlerOptions = {}): StepwiseHandler {
  const resolved = resolveOptions(options);
  const guard = resolved.guard;
  const handler = async (request: Request): Promise<Response> => {
    try {
      const url = new URL(request.url);
      const { route, params } = selectRoute(request, url, resolved, guard);
      return await route.handle({ request, url, params, options: resolved });
    } catch (error) {
      return problemResponse(
        toProblem(error, (cause, errorId) => resolved.onError(cause, { errorId, request })),
      );
    }
  };
  return Object.assign(handler, {
    basePath: resolved.basePath,
    close: () => closeLiveStreams(resolved.live),
  });
}
