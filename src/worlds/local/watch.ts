/**
 * Cross-process change detection. Commits by other processes never reach this process's listeners,
 * so while anyone is subscribed the local World watches its data directory (`fs.watch`: the WAL
 * file changes on every commit) and confirms with `PRAGMA data_version`, which changes only when
 * ANOTHER connection committed; a slow poll covers platforms where watching misses events. Every
 * handle is unref'd: watching never keeps the process alive.
 */
import { type FSWatcher, watch } from "node:fs";
import { basename } from "node:path";

export interface ChangeWatcherOptions {
  dir: string;
  file: string;
  /** `PRAGMA data_version` of this process's connection. */
  dataVersion(): number;
  /** Another process committed something. */
  onChange(): void;
  /** Fallback poll interval. */
  pollMs: number;
}

export interface ChangeWatcher {
  start(): void;
  stop(): void;
}

/** Coalesces a burst of file events into one check. */
const DEBOUNCE_MS = 2;

export function createChangeWatcher(options: ChangeWatcherOptions): ChangeWatcher {
  const prefix = basename(options.file);
  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  let pending: NodeJS.Timeout | undefined;
  let last = 0;
  let running = false;

  const check = (): void => {
    pending = undefined;
    if (!running) return;
    let version: number;
    try {
      version = options.dataVersion();
    } catch {
      return; // the database is closing; stop() follows
    }
    if (version === last) return;
    last = version;
    options.onChange();
  };

  const schedule = (): void => {
    if (pending !== undefined || !running) return;
    pending = setTimeout(check, DEBOUNCE_MS);
    pending.unref();
  };

  return {
    start() {
      if (running) return;
      running = true;
      last = options.dataVersion();
      try {
        watcher = watch(options.dir, { persistent: false }, (_event, name) => {
          if (name === null || name.startsWith(prefix)) schedule();
        });
        watcher.on("error", () => {
          watcher?.close();
          watcher = undefined;
        });
        watcher.unref();
      } catch {
        watcher = undefined; // no inotify (limits, odd file systems): the poll still works
      }
      poll = setInterval(check, options.pollMs);
      poll.unref();
    },
    stop() {
      running = false;
      watcher?.close();
      watcher = undefined;
      if (poll !== undefined) clearInterval(poll);
      if (pending !== undefined) clearTimeout(pending);
      poll = undefined;
      pending = undefined;
    },
  };
}
