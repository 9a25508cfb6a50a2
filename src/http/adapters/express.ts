/**
 * Express adapter: a middleware that serves the handler's base path and passes every other
 * request on. Mount it before body parsers (`express.json()` would consume the body first):
 *
 *   app.use(expressMiddleware(createHandler()));
 *
 * It works with `app.use("/stepwise", ...)` too (it routes on `originalUrl`). Typed structurally
 * on Node's request and response, so Stepwise does not depend on Express.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { StepwiseHandler } from "../handler.ts";
import { serveNodeRequest } from "./node.ts";
import { hasBody } from "./node-request.ts";

/** What the middleware reads of Express's request: Node's, plus `originalUrl`. */
export type ExpressRequestLike = IncomingMessage & { originalUrl?: string };

const BODY_ALREADY_READ = JSON.stringify({
  error: {
    code: "BODY_ALREADY_READ",
    message:
      "Another middleware (e.g. express.json()) read the request body before Stepwise could. Mount the Stepwise middleware before body parsers.",
  },
});

/** Whether the target's (normalized) path is under `basePath` (everything is when it is the root). */
function underBase(target: string, basePath: string): boolean {
  if (basePath === "") return true;
  let pathname: string;
  try {
    pathname = new URL(`http://localhost${target.startsWith("/") ? "" : "/"}${target}`).pathname;
  } catch {
    return false;
  }
  return pathname === basePath || pathname.startsWith(`${basePath}/`);
}

/** An Express middleware serving `handler.basePath` and calling `next()` for everything else. */
export function expressMiddleware(
  handler: StepwiseHandler,
): (req: ExpressRequestLike, res: ServerResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    const target = req.originalUrl ?? req.url ?? "/";
    if (!underBase(target, handler.basePath)) {
      next();
      return;
    }
    if (hasBody(req) && req.readableEnded) {
      res.writeHead(500, { "content-type": "application/json; charset=utf-8" }).end(BODY_ALREADY_READ);
      return;
    }
    serveNodeRequest(handler, req, res, target).catch(next);
  };
}
