/**
 * The open `GET /live` streams of one handler, so that shutting the handler down
 * (`StepwiseHandler.close()`, called by `npx stepwise server` on its graceful close) ends them at
 * once instead of leaving them to the server's grace period, and refuses new ones.
 */

/** What a handler keeps of its live streams. */
export interface LiveStreams {
  /** A function ending each open stream. */
  readonly open: Set<() => void>;
  /** True once the handler is closed: new streams are refused (503). */
  closed: boolean;
}

/** A fresh registry (one per handler). */
export function createLiveStreams(): LiveStreams {
  return { open: new Set(), closed: false };
}

/** Ends every open stream and refuses new ones. */
export function closeLiveStreams(live: LiveStreams): void {
  live.closed = true;
  for (const end of [...live.open]) end();
}
