/**
 * Test setup (vitest `setupFiles`): keeps the "payloads are stored unencrypted" notice out of the
 * test output. In-process tests open many fresh data directories without a key, and each would
 * say it once; what the notice says and when is tested in real processes, whose stderr this does
 * not touch (test/e2e/plaintext-notice.test.ts, test/e2e/encryption.test.ts). A test that spies on
 * process.stderr.write still sees every write, the notice included.
 */
import { PLAINTEXT_NOTICE } from "../../src/serde/keys.ts";

const write = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
  if (typeof chunk === "string" && chunk.startsWith(PLAINTEXT_NOTICE)) return true;
  return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stderr.write;
