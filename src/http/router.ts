/**
 * Matching a path (relative to the base path) against the route table. Literal segments compare
 * as sent; `:param` segments are percent-decoded and refused (400) when they hold control
 * characters (NUL included) or more than 1024 characters, and, except for opaque keys (hook
 * tokens), when they could name another place: a `/` or `\`, `.` or `..`. The URL parser has
 * already resolved literal `..` segments, so a traversal lands on the route it names and is
 * checked (and authenticated) as that route.
 */
import { HttpProblem } from "./problem.ts";

/** What a route's code receives. */
export interface RouteContext<Options> {
  request: Request;
  url: URL;
  params: Record<string, string>;
  options: Options;
}

export interface Route<Options> {
  /** An HTTP method, or `*` for any. */
  method: string;
  /** e.g. `runs/:runId/cancel`. */
  path: string;
  /** Whether the API secret is required (every route but webhook URLs). */
  guarded: boolean;
  handle(context: RouteContext<Options>): Promise<Response>;
}

/** The routes whose path matches, with the raw (still encoded) parameter values. */
export interface PathMatch<Options> {
  routes: Route<Options>[];
  rawParams: Record<string, string>;
}

const MAX_PARAM_LENGTH = 1024;

/** Splits `/runs/abc/` into `["runs", "abc"]` (one trailing slash is tolerated). */
export function splitPath(rest: string): string[] {
  const trimmed = rest.replace(/^\//, "").replace(/\/$/, "");
  return trimmed === "" ? [] : trimmed.split("/");
}

/** Routes whose path pattern matches `segments` (any method). */
export function matchPath<Options>(
  routes: readonly Route<Options>[],
  segments: string[],
): PathMatch<Options> | undefined {
  let rawParams: Record<string, string> | undefined;
  const matched: Route<Options>[] = [];
  for (const route of routes) {
    const pattern = route.path.split("/");
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((part, i) => {
      const segment = segments[i] ?? "";
      if (part.startsWith(":")) {
        params[part.slice(1)] = segment;
        return segment !== "";
      }
      return part === segment;
    });
    if (!ok) continue;
    matched.push(route);
    rawParams ??= params;
  }
  return rawParams === undefined ? undefined : { routes: matched, rawParams };
}

/**
 * Parameters that are opaque keys, never names of places: a hook token may hold any character a
 * workflow gave it (`order/7`), since it is only ever looked up, never used as a path.
 */
const OPAQUE_PARAMS: ReadonlySet<string> = new Set(["token"]);

/** Percent-decodes a path parameter and refuses anything but one plain name (400). */
export function decodeParam(name: string, raw: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new HttpProblem(
      400,
      "INVALID_PATH",
      `The ${name} in the path is not valid percent-encoding; encode it with encodeURIComponent().`,
    );
  }
  const opaque = OPAQUE_PARAMS.has(name);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  const control = /[\u0000-\u001f\u007f]/.test(value);
  const pathLike = /[/\\]/.test(value) || value === "." || value === "..";
  if (value === "" || value.length > MAX_PARAM_LENGTH || control || (!opaque && pathLike)) {
    throw new HttpProblem(
      400,
      "INVALID_PATH",
      `The ${name} in the path is not valid: it must be 1 to ${MAX_PARAM_LENGTH} characters without control characters${opaque ? "" : ', "/", "\\", and not "." or ".."'}.`,
    );
  }
  return value;
}

/** Decodes every parameter of a match (400 on the first bad one). */
export function decodeParams(raw: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) out[name] = decodeParam(name, value);
  return out;
}
