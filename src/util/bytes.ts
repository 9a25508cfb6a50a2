/**
 * Byte counts in words, and the error a run over its size limit raises: shared by the runtime's
 * checks and the Worlds' (which check a run's total atomically, in the transaction that writes).
 */
import { PayloadTooLargeError } from "../errors/runtime.ts";

/** "1.5 MB", "812 bytes", ... (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/**
 * The error for `what` (`size` bytes) that would take run `runId` from `current` bytes past `max`,
 * the per-run limit.
 */
export function runTooLarge(
  what: string,
  runId: string,
  current: number,
  size: number,
  max: number,
): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `${what} (${formatBytes(size)}) would take run ${runId} to ${formatBytes(current + size)}, over the ${formatBytes(max)} limit per run. Nothing was stored. Store large data elsewhere and pass references, or raise STEPWISE_MAX_RUN_BYTES.`,
  );
}
