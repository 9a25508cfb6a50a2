/**
 * The root of Stepwise's error hierarchy.
 *
 * Every error Stepwise throws carries a stable string `code`. Errors cross realm boundaries (the
 * workflow sandbox is a separate `node:vm` context) and process boundaries (they are serialized into
 * the event log), so `instanceof` is not enough: each class has a static `is()` that recognises its
 * own instances and its subclasses' instances by code, wherever they were created.
 */

const parents = new Map<string, string | undefined>();

/** Records that errors with `code` are a kind of `parent` (used by `is()` across realms). */
export function registerErrorCode(code: string, parent?: string): void {
  parents.set(code, parent);
}

function codeMatches(code: unknown, wanted: string): boolean {
  let current = typeof code === "string" ? code : undefined;
  for (let depth = 0; current !== undefined && depth < 16; depth++) {
    if (current === wanted) return true;
    current = parents.get(current);
  }
  return false;
}

/** Options accepted by every Stepwise error. */
export interface StepwiseErrorOptions {
  cause?: unknown;
}

export class StepwiseError extends Error {
  static readonly code: string = "STEPWISE_ERROR";
  readonly code: string;

  constructor(message: string, options?: StepwiseErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    const ctor = new.target as unknown as { code: string; name: string };
    this.code = ctor.code;
    this.name = ctor.name;
  }

  /** True when `value` is this kind of error, even if it was created in another realm or process. */
  static is<T extends abstract new (...args: never[]) => StepwiseError>(
    this: T & { readonly code: string },
    value: unknown,
  ): value is InstanceType<T> {
    if (value instanceof this) return true;
    if (typeof value !== "object" || value === null) return false;
    return codeMatches((value as { code?: unknown }).code, this.code);
  }
}
registerErrorCode(StepwiseError.code);

/** Normalises anything thrown into an `Error`, keeping real errors (and their stacks) as they are. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === "object" && value !== null && "message" in value && "name" in value) {
    const like = value as { message: unknown; name: unknown; stack?: unknown };
    const error = new Error(String(like.message));
    error.name = String(like.name);
    if (typeof like.stack === "string") error.stack = like.stack;
    return error;
  }
  let text: string;
  try {
    text = typeof value === "string" ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return new Error(`Non-error value thrown: ${text}`);
}
