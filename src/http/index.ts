/**
 * `stepwise-workflows/http`: Stepwise's HTTP API as one `(Request) => Promise<Response>` handler, and thin
 * adapters for Node's `http` server, Hono and Express. See docs/http.md.
 */

export { type ExpressRequestLike, expressMiddleware } from "./adapters/express.ts";
export { type HonoContextLike, honoRoute } from "./adapters/hono.ts";
export { type FetchHandler, serveNodeRequest, toNodeListener } from "./adapters/node.ts";
export { MIN_SECRET_LENGTH, SECRET_ENV } from "./auth.ts";
export { createHandler, type StepwiseHandler } from "./handler.ts";
export type { HandlerOptions } from "./options.ts";
export type { ErrorBody, ProblemIssue } from "./problem.ts";
