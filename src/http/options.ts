/**
 * What `createHandler()` can be told, and the defaults it fills in. Every limit is here so an
 * operator can see (and change) how much the handler accepts and how long it holds a request.
 */
import type { Client } from "../client/client.ts";
import { DEFAULT_WEBHOOK_TIMEOUT_MS } from "../client/webhooks.ts";
import { processClient } from "../process/process.ts";
import { createGuard, type Guard, SECRET_ENV } from "./auth.ts";
import { createLiveStreams, type LiveStreams } from "./live.ts";

export interface HandlerOptions {
  /**
   * The client the run API starts, reads and controls runs through (its World, payload keys and
   * limits); default the process's (`stepwise-workflows/api`: `configure()`, or the environment).
   */
  client?: Client;
  /** Where the routes are mounted, e.g. `/stepwise` (default) or `""` for the root. */
  basePath?: string;
  /** The API secret; default `process.env.STEPWISE_HTTP_SECRET`. Without one the run API answers 503. */
  secret?: string;
  /** Largest JSON body accepted by the run API (default 1 MB). */
  maxBodyBytes?: number;
  /** Largest body a webhook URL accepts (default and ceiling: the per-payload limit, 50 MB). */
  maxWebhookBodyBytes?: number;
  /** How long a manual-mode webhook waits for the workflow's response (default 30 s, then 504). */
  webhookTimeoutMs?: number;
  /** Longest `?wait=` on `GET /runs/:runId/result`, in ms (default 30 s); longer asks are cut to it. */
  maxWaitMs?: number;
  /** How long `POST /runs/:runId/cancel` waits for the run to stop before answering 202 (default 5 s). */
  cancelWaitMs?: number;
  /** How often an idle `GET /live` stream sends a comment, in ms (default 15 s). */
  liveHeartbeatMs?: number;
  /** Told about unexpected failures (answered with a 500 naming `errorId`); default `console.error`. */
  onError?: (error: unknown, context: { errorId: string; request: Request }) => void;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  client: Client;
  basePath: string;
  secret: string | undefined;
  maxBodyBytes: number;
  maxWebhookBodyBytes: number | undefined;
  webhookTimeoutMs: number;
  maxWaitMs: number;
  cancelWaitMs: number;
  liveHeartbeatMs: number;
  onError: (error: unknown, context: { errorId: string; request: Request }) => void;
  /** The handler's open `GET /live` streams (ended by `StepwiseHandler.close()`). */
  live: LiveStreams;
  /** Checks the secret and session cookies (built from `secret`). */
  guard: Guard;
}

const MB = 1024 * 1024;

/** `/stepwise/` → `/stepwise`, `stepwise` → `/stepwise`, `/` and `""` → `""` (the root). */
export function normalizeBasePath(path: string): string {
  const trimmed = path.trim().replace(/\/+$/, "");
  if (trimmed === "") return "";
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

/** Hook and webhook tokens are secrets: logs show `/hooks/<token>` instead. */
function redactTokens(pathname: string): string {
  return pathname.replace(
    /\/(web)?hooks\/[^/]+/g,
    (_match, web: string | undefined) => `/${web ?? ""}hooks/<token>`,
  );
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`createHandler: ${name} must be a whole number >= 0 (got ${String(value)}).`);
  }
  return value;
}

/** Fills in the defaults; a negative or fractional limit is a `TypeError`. */
export function resolveOptions(options: HandlerOptions): ResolvedOptions {
  const secret = options.secret ?? process.env[SECRET_ENV];
  return {
    client: options.client ?? processClient(),
    basePath: normalizeBasePath(options.basePath ?? "/stepwise"),
    secret,
    guard: createGuard(secret),
    maxBodyBytes: positive("maxBodyBytes", options.maxBodyBytes, MB),
    maxWebhookBodyBytes:
      options.maxWebhookBodyBytes === undefined
        ? undefined
        : positive("maxWebhookBodyBytes", options.maxWebhookBodyBytes, 0),
    webhookTimeoutMs: positive("webhookTimeoutMs", options.webhookTimeoutMs, DEFAULT_WEBHOOK_TIMEOUT_MS),
    maxWaitMs: positive("maxWaitMs", options.maxWaitMs, 30_000),
    cancelWaitMs: positive("cancelWaitMs", options.cancelWaitMs, 5_000),
    liveHeartbeatMs: Math.max(1, positive("liveHeartbeatMs", options.liveHeartbeatMs, 15_000)),
    live: createLiveStreams(),
    onError:
      options.onError ??
      ((error, { errorId, request }) => {
        const path = redactTokens(new URL(request.url).pathname);
        console.error(`[stepwise http] ${request.method} ${path} failed (${errorId})`, error);
      }),
  };
}
