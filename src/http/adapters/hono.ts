/**
 * Hono adapter. Hono speaks Web Requests already, so this only hands over the raw request:
 *
 *   const stepwise = createHandler();
 *   app.all(`${stepwise.basePath}/*`, honoRoute(stepwise));
 *
 * It is typed structurally, so Stepwise does not depend on Hono.
 */
import type { FetchHandler } from "./node.ts";

/** The part of Hono's `Context` the route uses. */
export interface HonoContextLike {
  req: { raw: Request };
}

/** A Hono route handler serving every request it is given with `handler`. */
export function honoRoute(handler: FetchHandler): (context: HonoContextLike) => Promise<Response> {
  return (context) => handler(context.req.raw);
}
