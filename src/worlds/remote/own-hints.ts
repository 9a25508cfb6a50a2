/**
 * The change hints of the remote World's own writes. A listener must hear of a write once it has
 * happened, and as often as the World behind the server says it (the conformance suite counts:
 * one batch of runs is one `queue` hint). The server's notification stream carries the hints of
 * every write the server does, this World's included, so:
 *
 * - while the stream is live (its `ready` came before the write was sent), the server's hints
 *   are the only ones: nothing is given here;
 * - otherwise (just subscribed, or reconnecting) the write's hints are given here when it
 *   returns, unless the stream brought the same hint since the write was sent (that was its
 *   echo, or another write's hint that came after the write had happened: either way the listener
 *   has heard), and the echo that may still follow is dropped once, within `ECHO_WINDOW_MS`.
 */
import type { Notifier } from "../../world/notify.ts";
import type { WorldNotification } from "../../world/types.ts";

/** How long a hint given here waits for its echo from the server's stream. */
const ECHO_WINDOW_MS = 2_000;
/** How many of the stream's latest hints are kept to compare a write's hints with. */
const RECENT = 512;

/** Where the stream stood when a write was sent. */
export interface Mark {
  ready: boolean;
  seq: number;
}

const keyOf = (n: WorldNotification): string =>
  `${n.type}|${"runId" in n ? n.runId : ""}|${"name" in n ? n.name : ""}`;

export class OwnHints {
  readonly #notifier: Notifier;
  #ready = false;
  #received = 0;
  /** The stream's latest hints: sequence number, key, and whether a write's hint took it. */
  readonly #recent: { seq: number; key: string; taken: boolean }[] = [];
  /** Hints given here whose echo may still come: key → expiry times. */
  readonly #echoes = new Map<string, number[]>();

  constructor(notifier: Notifier) {
    this.#notifier = notifier;
  }

  /** The stream is live (its `ready` arrived), or it is not (closed, broken, reconnecting). */
  setReady(ready: boolean): void {
    this.#ready = ready;
  }

  /** Call before sending a write. */
  mark(): Mark {
    return { ready: this.#ready, seq: this.#received };
  }

  /** A hint from the server's stream: told to listeners unless it is the echo of one given here. */
  fromServer(notification: WorldNotification): void {
    const key = keyOf(notification);
    this.#received += 1;
    const expiries = this.#echoes.get(key);
    if (expiries !== undefined) {
      const now = Date.now();
      while (expiries.length > 0 && (expiries[0] as number) < now) expiries.shift();
      const echo = expiries.length > 0;
      if (echo) expiries.shift();
      if (expiries.length === 0) this.#echoes.delete(key);
      if (echo) return;
    }
    this.#recent.push({ seq: this.#received, key, taken: false });
    if (this.#recent.length > RECENT) this.#recent.shift();
    this.#notifier.emit(notification);
  }

  /** After a write sent at `mark` returned: its hints, given here when the stream will not give them. */
  own(mark: Mark, ...notifications: WorldNotification[]): void {
    if (mark.ready || this.#notifier.size === 0) return;
    const now = Date.now();
    for (const notification of notifications) {
      const key = keyOf(notification);
      const heard = this.#recent.find((entry) => entry.seq > mark.seq && !entry.taken && entry.key === key);
      if (heard !== undefined) {
        heard.taken = true;
        continue;
      }
      if (this.#echoes.size > 256) {
        for (const [other, expiries] of this.#echoes) {
          if ((expiries.at(-1) as number) < now) this.#echoes.delete(other);
        }
      }
      const expiries = this.#echoes.get(key) ?? [];
      expiries.push(now + ECHO_WINDOW_MS);
      this.#echoes.set(key, expiries);
      this.#notifier.emit(notification);
    }
  }
}
