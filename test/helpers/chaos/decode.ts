/**
 * Reads stored payload bytes (run inputs and outputs, hook payloads) back into values, the way the
 * runtime does, for tests that check what the World holds after the chaos. The one place these
 * tests depend on the payload format.
 */
import { decodeValue } from "../../../src/serde/codec.ts";
import { createPayloadCodec, type PayloadScope } from "../../../src/serde/payload.ts";

const codec = createPayloadCodec();

/** The value behind a payload stored for `run` at `place` (see src/serde/places.ts). */
export function decodeStored(run: PayloadScope, place: string, bytes: Uint8Array): unknown {
  return decodeValue(codec.decode(run, place, bytes));
}
