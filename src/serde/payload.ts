/**
 * Payload bytes as stored by Worlds. A payload is the codec's text (see `codec.ts`) in a small
 * envelope whose first byte names the format, so later formats (compressed, encrypted with a key
 * id for rotation) can be read side by side with older ones.
 *
 *   0x01 <utf-8 text>      plain
 */
import { SerializationError } from "../errors/runtime.ts";

const PLAIN = 0x01;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Turns codec text into stored bytes for a run, and back. */
export interface PayloadCodec {
  encode(runId: string, text: string): Uint8Array;
  decode(runId: string, bytes: Uint8Array): string;
}

export function createPayloadCodec(): PayloadCodec {
  return {
    encode(_runId, text) {
      const body = encoder.encode(text);
      const bytes = new Uint8Array(body.length + 1);
      bytes[0] = PLAIN;
      bytes.set(body, 1);
      return bytes;
    },
    decode(runId, bytes) {
      const format = bytes[0];
      if (format === PLAIN) return decoder.decode(bytes.subarray(1));
      throw new SerializationError(
        `A payload of run ${runId} has an unknown format (first byte ${String(format)}). It was written by a newer Stepwise or is corrupt; upgrade this worker.`,
      );
    },
  };
}
