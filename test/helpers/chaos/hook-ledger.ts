/**
 * Sends hook payloads during a fault test and keeps the books that prove each one delivered exactly
 * once. Every payload carries a unique nonce (`<token>#<n>`). A `resumeHook` that resolved was
 * acknowledged. One that threw may or may not have been stored (a connection can drop after the
 * commit), so its nonce stays pending until the run's inbox and log say which: found, it counts as
 * sent; absent, it is forgotten and the hook gets a new nonce. A hook is sent payloads until
 * `perHook` are sent or pending, never more, so a workflow that takes `perHook` payloads leaves
 * none behind. After the chaos, `check()` compares what was sent with what the workflows received
 * and what the logs recorded.
 */
import { resumeHook } from "../../../src/api/index.ts";
import { eventPlace, places } from "../../../src/serde/places.ts";
import type { HookRecord, World } from "../../../src/world/types.ts";
import { decodeStored } from "./decode.ts";

/** What a hook payload in these tests carries. */
export interface ChaosPayload {
  bonus: number;
  nonce: string;
}

interface Book {
  runId: string;
  next: number;
  nonces: string[];
}

/** The outcome of `check()`: nonces by what went wrong with them (all empty when nothing did). */
export interface HookCheck {
  sent: number;
  lost: string[];
  receivedTwice: string[];
  recordedTwice: string[];
  notRecorded: string[];
  neverSent: string[];
}

function counts(values: readonly string[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const value of values) result.set(value, (result.get(value) ?? 0) + 1);
  return result;
}

export class HookLedger {
  /** Nonces whose resumeHook resolved. */
  readonly acknowledged = new Set<string>();
  /** Nonces whose resumeHook threw but which the World had stored. */
  readonly storedDespiteError = new Set<string>();
  /** resumeHook calls that threw. */
  errors = 0;
  /** Nonces whose resumeHook threw and which the World did not store (replaced by new ones). */
  forgotten = 0;
  readonly #world: World;
  readonly #perHook: number;
  readonly #bonus: number;
  readonly #pending = new Map<string, string>(); // nonce -> runId
  readonly #books = new Map<string, Book>();

  constructor(world: World, options: { perHook: number; bonus: number }) {
    this.#world = world;
    this.#perHook = options.perHook;
    this.#bonus = options.bonus;
  }

  /** Sends at most one payload to every active hook that needs one (settling doubtful ones first). */
  async tick(): Promise<void> {
    let hooks: HookRecord[];
    try {
      hooks = await this.#world.hooks.list({ status: "active", limit: 1000 });
    } catch {
      return; // the World is briefly unavailable: look again on the next tick
    }
    await Promise.all(hooks.map((hook) => this.#serve(hook)));
  }

  async #serve(hook: HookRecord): Promise<void> {
    let book = this.#books.get(hook.token);
    if (book === undefined) {
      book = { runId: hook.runId, next: 1, nonces: [] };
      this.#books.set(hook.token, book);
    }
    try {
      for (const nonce of book.nonces) if (this.#pending.has(nonce)) await this.#settle(nonce);
    } catch {
      return; // cannot tell yet whether a doubtful payload was stored: send nothing more for now
    }
    const live = book.nonces.filter(
      (n) => this.acknowledged.has(n) || this.storedDespiteError.has(n) || this.#pending.has(n),
    );
    if (live.length >= this.#perHook) return;
    const nonce = `${hook.token}#${book.next++}`;
    book.nonces.push(nonce);
    try {
      await resumeHook(hook.token, { bonus: this.#bonus, nonce } satisfies ChaosPayload);
      this.acknowledged.add(nonce);
    } catch {
      this.errors += 1;
      this.#pending.set(nonce, hook.runId);
    }
  }

  /** Decides a doubtful nonce from the run's inbox, then its log (an item moves from one to the other in one transaction). */
  async #settle(nonce: string): Promise<void> {
    const runId = this.#pending.get(nonce);
    if (runId === undefined) return;
    const run = await this.#world.runs.get(runId);
    const waiting = await this.#world.inbox.list(runId);
    const log = await this.#world.events.list(runId);
    const stored = [
      ...waiting.map((item) => ({
        bytes: item.payload,
        place: places.hookPayload(item.hookId ?? "", item.itemId),
      })),
      ...log.flatMap((event) =>
        event.type === "hook_received" ? [{ bytes: event.payload, place: eventPlace(event) }] : [],
      ),
    ].some(
      ({ bytes, place }) =>
        bytes !== undefined && (decodeStored(run, place, bytes) as ChaosPayload).nonce === nonce,
    );
    this.#pending.delete(nonce);
    if (stored) this.storedDespiteError.add(nonce);
    else this.forgotten += 1;
  }

  /** Settles every doubtful nonce (retrying while the World is unavailable). */
  async settleAll(deadline: number): Promise<void> {
    while (this.#pending.size > 0) {
      for (const nonce of [...this.#pending.keys()]) {
        try {
          await this.#settle(nonce);
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    }
  }

  /**
   * Compares the payloads sent with the nonces the workflows `received` (from their results) and
   * those `recorded` in `hook_received` events: each sent one exactly once in both, nothing else.
   */
  check(received: readonly string[], recorded: readonly string[]): HookCheck {
    const sent = new Set([...this.acknowledged, ...this.storedDespiteError]);
    const got = counts(received);
    const logged = counts(recorded);
    return {
      sent: sent.size,
      lost: [...sent].filter((n) => !got.has(n)),
      receivedTwice: [...got].filter(([, k]) => k > 1).map(([n]) => n),
      recordedTwice: [...logged].filter(([, k]) => k > 1).map(([n]) => n),
      notRecorded: [...sent].filter((n) => !logged.has(n)),
      neverSent: [...new Set([...received, ...recorded])].filter((n) => !sent.has(n)),
    };
  }
}
