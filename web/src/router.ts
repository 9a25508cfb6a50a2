/**
 * A small history-API router: the dashboard's pages are `/` (runs), `/runs/:runId` and
 * `/workflows`; anything else is the not-found page. The server answers index.html for every
 * such path, so links can be opened directly and reloaded.
 */
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "runs"; search: URLSearchParams }
  | { page: "run"; runId: string }
  | { page: "workflows" }
  | { page: "not-found"; path: string };

/** The route of a location's path and query. */
export function parseRoute(pathname: string, search: string): Route {
  if (pathname === "/" || pathname === "/runs" || pathname === "/runs/") {
    return { page: "runs", search: new URLSearchParams(search) };
  }
  if (pathname === "/workflows" || pathname === "/workflows/") return { page: "workflows" };
  const run = /^\/runs\/([^/]+)\/?$/.exec(pathname);
  if (run?.[1]) {
    try {
      return { page: "run", runId: decodeURIComponent(run[1]) };
    } catch {
      return { page: "not-found", path: pathname };
    }
  }
  return { page: "not-found", path: pathname };
}

const listeners = new Set<() => void>();

/** Goes to `href` (same origin) without reloading. */
export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  for (const listener of listeners) listener();
}

/** The route the address bar names now. */
const read = (): Route => parseRoute(location.pathname, location.search);

/** The current route, updated on navigation and on back/forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const update = () => setRoute(read());
    listeners.add(update);
    addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      removeEventListener("popstate", update);
    };
  }, []);
  return route;
}

/** The path of a run's page. */
export function runHref(runId: string): string {
  return `/runs/${encodeURIComponent(runId)}`;
}
