/**
 * What a process can prove about the kernel it runs on, for decisions that several processes on
 * one machine must agree on: which boot this is, which PID namespace the process's pid belongs
 * to, and how far its time namespace shifts the monotonic clock. On Linux these come from `/proc`;
 * on other platforms (and where `/proc` cannot be read) they are `undefined`, and callers must
 * then fall back to something that needs no such proof (lease expiry, the wall clock). Each value
 * is read once per process: none of them can change while the process lives.
 */
import { readFileSync, readlinkSync, statSync } from "node:fs";

let cachedBootId: string | null | undefined;
let cachedPidNamespace: string | null | undefined;
let cachedMonotonicOffset: bigint | null | undefined;

/** The kernel's boot id (Linux: a random UUID chosen at every boot), or undefined. */
export function bootId(): string | undefined {
  if (cachedBootId === undefined) {
    cachedBootId = null;
    if (process.platform === "linux") {
      try {
        const text = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
        if (/^[0-9a-f-]{32,36}$/i.test(text)) cachedBootId = text;
      } catch {
        // No /proc (or not readable): unknown.
      }
    }
  }
  return cachedBootId ?? undefined;
}

/**
 * This process's PID namespace, as `<device>:<inode>` of `/proc/self/ns/pid` (unique among the
 * namespaces alive on this boot), or undefined. Two processes with the same value interpret pids
 * the same way: `kill(pid, 0)` in one answers for the other.
 */
export function pidNamespace(): string | undefined {
  if (cachedPidNamespace === undefined) {
    cachedPidNamespace = null;
    if (process.platform === "linux") {
      try {
        const ns = statSync("/proc/self/ns/pid", { bigint: true });
        cachedPidNamespace = `${ns.dev}:${ns.ino}`;
      } catch {
        // Kernels without namespaces (< 3.8) or no /proc: unknown.
      }
    }
  }
  return cachedPidNamespace ?? undefined;
}

/**
 * By how many nanoseconds this process's CLOCK_MONOTONIC (what `process.hrtime` reads) is ahead
 * of the machine's, because of a Linux time namespace (`/proc/self/timens_offsets`): 0n on a
 * kernel without time namespaces, undefined when it cannot be known (not Linux, or a process whose
 * own time namespace differs from the one that file describes, which is its children's).
 */
export function monotonicOffsetNs(): bigint | undefined {
  if (cachedMonotonicOffset === undefined) cachedMonotonicOffset = readMonotonicOffset() ?? null;
  return cachedMonotonicOffset ?? undefined;
}

function readMonotonicOffset(): bigint | undefined {
  if (process.platform !== "linux") return undefined;
  let offsets: string;
  try {
    offsets = readFileSync("/proc/self/timens_offsets", "utf8");
  } catch {
    // No such file: a kernel without time namespaces (before 5.6, or built without them) has one
    // monotonic clock, provided /proc itself is there to say so.
    return exists("/proc/self/ns/time") || pidNamespace() === undefined ? undefined : 0n;
  }
  // The file describes the namespace this process's children get; it is also ours unless this
  // process called unshare(CLONE_NEWTIME) itself.
  try {
    if (readlinkSync("/proc/self/ns/time") !== readlinkSync("/proc/self/ns/time_for_children")) {
      return undefined;
    }
  } catch {
    return undefined;
  }
  const line = offsets.split("\n").find((text) => text.trim().split(/\s+/)[0] === "monotonic");
  const [, seconds, nanoseconds] = line?.trim().split(/\s+/) ?? [];
  if (seconds === undefined || nanoseconds === undefined) return undefined;
  try {
    return BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds);
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  try {
    readlinkSync(path);
    return true;
  } catch {
    return false;
  }
}
