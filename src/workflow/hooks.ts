/**
 * Hooks as workflow code sees them: an object that is both awaitable (the first payload) and
 * async-iterable (every payload, in arrival order). Payloads arrive as deliveries from the host;
 * a hook made by `defineHook({ schema })` validates each one before handing it over.
 *
 * Runs inside the sandbox: no Node imports.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { validatePayload } from "./schema.ts";

type Result<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface HookInternals {
  receive(payload: unknown): void;
  fail(error: unknown): void;
}

/** A hook handle in workflow code. */
export class Hook<T = unknown> implements PromiseLike<T>, AsyncIterable<T> {
  readonly token: string;
  readonly hookId: string;
  readonly #received: Result<unknown>[] = [];
  readonly #waiters: { index: number; resolve: (result: Result<unknown> | undefined) => void }[] = [];
  readonly #schema: StandardSchemaV1<unknown, T> | undefined;
  readonly #transform: ((payload: unknown) => unknown) | undefined;
  readonly #dispose: () => void;
  #failure: Result<unknown> | undefined;
  #disposed = false;

  constructor(
    hookId: string,
    token: string,
    options: {
      schema?: StandardSchemaV1<unknown, T> | undefined;
      /** Turns each delivered payload into what the workflow receives (webhooks: a Request). */
      transform?: (payload: unknown) => unknown;
      dispose: () => void;
    },
  ) {
    this.hookId = hookId;
    this.token = token;
    this.#schema = options.schema;
    this.#transform = options.transform;
    this.#dispose = options.dispose;
  }

  /** @internal Used by the prelude to feed the hook. */
  internals(): HookInternals {
    return {
      receive: (payload) => this.#push({ ok: true, value: payload }),
      fail: (error) => {
        this.#failure = { ok: false, error };
        this.#flush();
      },
    };
  }

  #push(result: Result<unknown>): void {
    if (this.#disposed) return;
    this.#received.push(result);
    this.#flush();
  }

  #flush(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i];
      if (waiter === undefined) continue;
      const result = this.#received[waiter.index] ?? this.#failure ?? (this.#disposed ? undefined : null);
      if (result === null) continue;
      this.#waiters.splice(i, 1);
      waiter.resolve(result);
    }
  }

  async #at(index: number): Promise<{ done: true } | { done: false; value: T }> {
    const result =
      this.#received[index] ??
      this.#failure ??
      (this.#disposed
        ? undefined
        : await new Promise<Result<unknown> | undefined>((resolve) =>
            this.#waiters.push({ index, resolve }),
          ));
    if (result === undefined) return { done: true };
    if (!result.ok) throw result.error;
    return { done: false, value: await this.#validate(result.value) };
  }

  async #validate(payload: unknown): Promise<T> {
    const value = this.#transform === undefined ? payload : this.#transform(payload);
    if (this.#schema === undefined) return value as T;
    return validatePayload(
      this.#schema,
      value,
      (summary) => `A payload for hook ${this.token} does not match the hook's schema: ${summary}`,
    );
  }

  // biome-ignore lint/suspicious/noThenProperty: hooks are awaitable by design (first payload).
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    const first = this.#at(0).then((next) => {
      if (next.done) throw new Error(`Hook ${this.token} was disposed before it received a payload.`);
      return next.value;
    });
    return first.then(onFulfilled, onRejected);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    let index = 0;
    return {
      next: async () => {
        const next = await this.#at(index);
        if (next.done) return { done: true, value: undefined };
        index += 1;
        return { done: false, value: next.value };
      },
      return: async () => ({ done: true, value: undefined }),
    };
  }

  /** Stops listening: the token becomes free for other runs, and pending iterations end. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#dispose();
    this.#flush();
  }
}

/** A request delivered by a webhook. In manual mode, answer it with `respondWith`. */
export type WebhookRequest = Request & {
  /** Manual mode only: sends `response` to the waiting HTTP client (once). */
  respondWith(response: Response): Promise<void>;
};

/** A webhook: a hook whose payloads are HTTP requests sent to `url`. */
export class Webhook extends Hook<WebhookRequest> {
  readonly url: string;

  constructor(
    hookId: string,
    token: string,
    url: string,
    options: { transform: (payload: unknown) => unknown; dispose: () => void },
  ) {
    super(hookId, token, options);
    this.url = url;
  }
}
