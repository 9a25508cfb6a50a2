/**
 * LISTEN for other processes' changes. One dedicated connection (outside the pool) listens on the
 * World's channel and turns each notification from another World instance into the World's change
 * hints. When the connection drops (a server restart, a network cut) it reconnects with
 * exponential backoff and jitter (100 ms doubling to 5 s), and after every reconnection emits
 * `{ type: "any" }`, because notifications sent meanwhile are lost. Nothing here throws or keeps
 * the process alive: errors are reported (once per outage) and retried, the socket and the retry
 * timer are unref'd.
 */
import pg from "pg";
import type { WorldNotification } from "../../world/types.ts";
import { quoteIdent } from "./migrate.ts";
import { parseNotification } from "./notifications.ts";

export interface ListenerOptions {
  clientConfig: pg.ClientConfig;
  channel: string;
  /** This World instance's origin: its own notifications are skipped. */
  origin: string;
  onHints(hints: readonly WorldNotification[]): void;
  warn(message: string, error?: unknown): void;
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface Listener {
  /**
   * Starts listening and keeps trying until `stop`. Resolves once the first attempt has succeeded
   * or failed (a failed start keeps retrying in the background). Idempotent.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Whether LISTEN is established right now. */
  readonly listening: boolean;
}

/** node-postgres clients can unref their socket; the type declarations do not say so. */
type Unrefable = { unref?(): void };

export function createListener(options: ListenerOptions): Listener {
  const minDelay = options.minDelayMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 5000;
  let running = false;
  let client: pg.Client | undefined;
  let connecting: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let connectedBefore = false;
  let firstAttempt: (() => void) | undefined;

  function retry(error: unknown): void {
    failures++;
    if (failures === 1) {
      options.warn(
        `the LISTEN connection (channel ${options.channel}) is down; reconnecting with backoff. Other processes' changes are heard again once it is back.`,
        error,
      );
    }
    const base = Math.min(maxDelay, minDelay * 2 ** Math.min(failures - 1, 16));
    timer = setTimeout(connect, base / 2 + (Math.random() * base) / 2);
    timer.unref();
  }

  function connect(): void {
    timer = undefined;
    if (!running) return;
    const next = new pg.Client(options.clientConfig);
    connecting = next;
    let dropped = false;
    const drop = (error?: unknown): void => {
      if (dropped) return;
      dropped = true;
      if (client === next) client = undefined;
      if (connecting === next) connecting = undefined;
      next.end().catch(() => {});
      if (running) retry(error);
      settleFirst();
    };
    next.on("error", drop);
    next.on("end", () => drop(new Error("connection ended")));
    next.on("notification", (message: pg.Notification) => {
      if (message.channel !== options.channel || message.payload === undefined) return;
      const hints = parseNotification(message.payload, options.origin);
      if (hints.length > 0) options.onHints(hints);
    });
    next
      .connect()
      .then(() => next.query(`LISTEN ${quoteIdent(options.channel)}`))
      .then(() => {
        if (dropped) return;
        connecting = undefined;
        if (!running) {
          dropped = true;
          next.end().catch(() => {});
          return;
        }
        client = next;
        (next as unknown as Unrefable).unref?.();
        const missedSome = connectedBefore || failures > 0;
        connectedBefore = true;
        failures = 0;
        settleFirst();
        if (missedSome) options.onHints([{ type: "any" }]);
      })
      .catch(drop);
  }

  function settleFirst(): void {
    const settle = firstAttempt;
    firstAttempt = undefined;
    settle?.();
  }

  return {
    start() {
      if (running) return Promise.resolve();
      running = true;
      const started = new Promise<void>((resolve) => {
        firstAttempt = resolve;
      });
      connect();
      return started;
    },
    async stop() {
      running = false;
      settleFirst();
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const current = [client, connecting];
      client = undefined;
      connecting = undefined;
      await Promise.all(current.map((c) => c?.end().catch(() => {})));
    },
    get listening() {
      return client !== undefined;
    },
  };
}
