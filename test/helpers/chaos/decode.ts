/**
 * Reads stored payload bytes (run inputs and outputs, hook payloads) back into values, the way the
 * runtime does, for tests that check what the World holds after the chaos. The one place these
 * tests depend on the payload format.
 */
import { decodeValue } from "../../../src/serde/codec.ts";
import { createPayloadCodec } from "../../../src/serde/payload.ts";

const codec = createPayloadCodec();

/** The value behind a payload stored for `runId`. */
export function decodeStored(runId: string, bytes: Uint8Array): unknown {
  return decodeValue(codec.decode(runId, bytes));
}
