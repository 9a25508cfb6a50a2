/**
 * The run API (`stepwise-workflows/http`) as Next.js route handlers. Mounted by one catch-all
 * route file the app adds, `app/stepwise/[...path]/route.ts`:
 *
 *     export { GET, POST, PUT, PATCH, DELETE } from "stepwise-workflows/next";
 *
 * The handler is created on the first request (so importing this module, from `next.config` too,
 * loads nothing of the HTTP stack), with the process's client and `STEPWISE_HTTP_SECRET`, and
 * serves the routes under `/stepwise` (the folder the route file sits in must match `basePath`).
 */
import type { StepwiseHandler } from "../http/handler.ts";
import type { HandlerOptions } from "../http/options.ts";

/** A Next.js route handler: a Request in, a Response out. */
export type RouteHandler = (request: Request) => Promise<Response>;

/** The route handlers a catch-all route file exports. */
export interface RouteHandlers {
  GET: RouteHandler;
  POST: RouteHandler;
  PUT: RouteHandler;
  PATCH: RouteHandler;
  DELETE: RouteHandler;
}

/**
 * Route handlers serving the run API with `options` (`basePath` must be the route's folder:
 * `app/api/durable/[...path]/route.ts` needs `{ basePath: "/api/durable" }`).
 */
export function createRouteHandlers(options: HandlerOptions = {}): RouteHandlers {
  let handler: Promise<StepwiseHandler> | undefined;
  const route: RouteHandler = async (request) => {
    handler ??= import("../http/handler.ts").then(({ createHandler }) => createHandler(options));
    return (await handler)(request);
  };
  return { GET: route, POST: route, PUT: route, PATCH: route, DELETE: route };
}

const defaults = createRouteHandlers();

/** `GET` of the run API under `/stepwise` (runs, streams, hooks, webhooks). */
export const GET: RouteHandler = defaults.GET;
/** `POST` of the run API under `/stepwise` (start, cancel, hooks, events, webhooks). */
export const POST: RouteHandler = defaults.POST;
/** `PUT` of the run API under `/stepwise` (webhooks). */
export const PUT: RouteHandler = defaults.PUT;
/** `PATCH` of the run API under `/stepwise` (webhooks). */
export const PATCH: RouteHandler = defaults.PATCH;
/** `DELETE` of the run API under `/stepwise` (sessions, webhooks). */
export const DELETE: RouteHandler = defaults.DELETE;
