/**
 * The dashboard's files, served by `npx stepwise server` and `npx stepwise web` at `/`: the
 * prebuilt front end in `dist/web/` (the `web/` Vite project's output, made by `npm run build`),
 * with a strict Content-Security-Policy (scripts and styles from this origin only: no inline
 * script), `nosniff`, no framing, a year's cache for hashed assets (`/assets/…`) and none for
 * `index.html`, and the single-page-app fallback: a GET for a path that is not a file and has no
 * extension answers `index.html`, so the dashboard's own routes (`/runs/wrun_…`) load it. Until
 * the front end is built, every page says so and how to build it. Only GET and HEAD are served;
 * nothing outside the folder is ever read.
 */
import { readFile, stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the built dashboard lives: `dist/web/` of the package (from `src/server/` or `dist/server/`). */
export const WEB_ROOT = fileURLToPath(new URL("../../dist/web/", import.meta.url));

/** The Content-Security-Policy of every dashboard response. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Hashed build output (`/assets/index-3f9a1c0e.js`): its name changes whenever its content does. */
const HASHED = /^\/assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stepwise</title></head>
<body><h1>The Stepwise dashboard was not built</h1>
<p>This copy of Stepwise has no <code>dist/web/</code>. In a checkout of Stepwise, run
<code>npm run build</code> (it builds the dashboard with the rest), then restart the server.
The run API at <code>/stepwise</code> works without it.</p></body></html>
`;

function respond(
  status: number,
  body: Uint8Array | string | null,
  headers: Record<string, string>,
  head: boolean,
): Response {
  return new Response(head ? null : body, { status, headers: { ...SECURITY_HEADERS, ...headers } });
}

/** The file under `root` that `pathname` names, or undefined if none (or it would leave `root`). */
async function fileAt(root: string, pathname: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const path = resolve(root, `.${decoded}`);
  if (!path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`)) return undefined;
  try {
    return (await stat(path)).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Serves the dashboard from `root` (default `WEB_ROOT`). */
export function createStaticHandler(root: string = WEB_ROOT): (request: Request) => Promise<Response> {
  return async (request) => {
    const head = request.method === "HEAD";
    if (request.method !== "GET" && !head) {
      return respond(
        405,
        "The dashboard's pages are only read (GET).\n",
        {
          allow: "GET, HEAD",
          "content-type": "text/plain; charset=utf-8",
        },
        false,
      );
    }
    const index = await fileAt(root, "/index.html");
    if (index === undefined)
      return respond(
        200,
        NOT_BUILT,
        { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
        head,
      );
    const { pathname } = new URL(request.url);
    let file = pathname === "/" ? index : await fileAt(root, pathname);
    if (file === undefined) {
      // A path with an extension names a file that is not there; anything else is the app's own route.
      if (extname(pathname) !== "")
        return respond(
          404,
          "Not found.\n",
          { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache" },
          head,
        );
      file = index;
    }
    const body = await readFile(file);
    const cache =
      file !== index && HASHED.test(pathname) ? "public, max-age=31536000, immutable" : "no-cache";
    return respond(
      200,
      body,
      { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": cache },
      head,
    );
  };
}
