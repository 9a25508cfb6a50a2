/**
 * `stepwise-workflows/next`: Next.js support. `withWorkflow(nextConfig)` for next.config, the run
 * API as route handlers (`GET`, `POST`, ... for `app/stepwise/[...path]/route.ts`, or
 * `createRouteHandlers(options)`), and `startWorker()` for `instrumentation.ts`. See
 * docs/frameworks.md.
 */
export {
  type NextConfigFunction,
  type NextConfigLike,
  type WebpackConfigFunction,
  withWorkflow,
} from "./config.ts";
export {
  createRouteHandlers,
  DELETE,
  GET,
  PATCH,
  POST,
  PUT,
  type RouteHandler,
  type RouteHandlers,
} from "./handlers.ts";
export { startWorker } from "./worker.ts";
