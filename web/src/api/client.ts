/**
 * The dashboard's one typed client of the run API, mounted at `/stepwise` on the same origin.
 * Authentication is the session cookie (`POST /session`); any 401 tells the app to show the
 * login form (`onUnauthorized`). Refusals become `ApiError` with the server's code and message.
 */
import type {
  EventPage,
  HookView,
  LogPage,
  RunPage,
  RunView,
  StreamInfoView,
  Timeline,
  WorkflowStats,
} from "./types.ts";

export const API_BASE = "/stepwise";

/** A refusal of the run API: its HTTP status, stable code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

let unauthorized: () => void = () => {};

/** Registers what happens when the API answers 401 (the app shows the login form). */
export function onUnauthorized(listener: () => void): void {
  unauthorized = listener;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers = { accept: "application/json", "content-type": "application/json" };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`${API_BASE}${path}`, init);
  if (response.status === 401) {
    unauthorized();
    throw new ApiError(401, "UNAUTHORIZED", "Sign in with the server's secret.");
  }
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? `The server answered ${response.status} ${response.statusText}.`,
    );
  }
  return parsed as T;
}

const enc = encodeURIComponent;

/** Query parameters of `GET /runs`. */
export interface RunQuery {
  status?: readonly string[];
  workflow?: string;
  language?: string;
  since?: string;
  until?: string;
  q?: string;
  cursor?: string;
  limit?: number;
}

function query(params: RunQuery): string {
  const search = new URLSearchParams();
  for (const status of params.status ?? []) search.append("status", status);
  if (params.workflow) search.set("workflow", params.workflow);
  if (params.language) search.set("language", params.language);
  if (params.since) search.set("since", params.since);
  if (params.until) search.set("until", params.until);
  if (params.q) search.set("q", params.q);
  if (params.cursor) search.set("cursor", params.cursor);
  if (params.limit !== undefined) search.set("limit", String(params.limit));
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

/** What `POST /runs/:runId/decrypt` answers: the timeline and events with payloads in clear. */
export interface Decrypted {
  timeline: Timeline;
  /** The first page of the event log. */
  events: EventPage;
}

export const api = {
  login: (secret: string) => request<null>("POST", "/session", { secret }),
  logout: () => request<null>("DELETE", "/session"),
  runs: (params: RunQuery) => request<RunPage>("GET", `/runs${query(params)}`),
  run: (runId: string) => request<RunView>("GET", `/runs/${enc(runId)}`),
  timeline: (runId: string) => request<Timeline>("GET", `/runs/${enc(runId)}/timeline`),
  events: (runId: string, cursor?: string) =>
    request<EventPage>("GET", `/runs/${enc(runId)}/events${cursor ? `?cursor=${enc(cursor)}` : ""}`),
  hooks: (runId: string) => request<HookView[] | { hooks: HookView[] }>("GET", `/runs/${enc(runId)}/hooks`),
  logs: (runId: string) => request<LogPage>("GET", `/runs/${enc(runId)}/logs?limit=10000`),
  decrypt: (runId: string, reason: string) =>
    request<Decrypted>("POST", `/runs/${enc(runId)}/decrypt`, { reason }),
  workflows: () => request<WorkflowStats[] | { workflows: WorkflowStats[] }>("GET", "/workflows"),
  cancel: (runId: string) => request<unknown>("POST", `/runs/${enc(runId)}/cancel`),
  pause: (runId: string) => request<unknown>("POST", `/runs/${enc(runId)}/pause`),
  resume: (runId: string) => request<unknown>("POST", `/runs/${enc(runId)}/resume`),
  restart: (runId: string, step?: string, occurrence?: number) =>
    request<unknown>(
      "POST",
      `/runs/${enc(runId)}/restart`,
      step ? { from: { step, ...(occurrence ? { occurrence } : {}) } } : {},
    ),
  sendEvent: (runId: string, type: string, payload: unknown) =>
    request<unknown>("POST", `/runs/${enc(runId)}/events`, { type, payload }),
  resumeHook: (token: string, payload: unknown) =>
    request<unknown>("POST", `/hooks/${enc(token)}`, { payload }),
  streams: (runId: string) => request<StreamInfoView[]>("GET", `/runs/${enc(runId)}/streams`),
  /** The URL of a durable stream (NDJSON, live): read by `streams.ts`. */
  streamUrl: (runId: string, name: string, startIndex = 0) =>
    `${API_BASE}/runs/${enc(runId)}/streams/${enc(name)}?startIndex=${startIndex}`,
  liveUrl: (runId?: string) => `${API_BASE}/live${runId ? `?runId=${enc(runId)}` : ""}`,
};
