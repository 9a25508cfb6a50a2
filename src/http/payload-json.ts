/**
 * How the dashboard's routes (timeline, events, decrypt) write a payload that `PayloadView`
 * showed: an encrypted one left encrypted as `{ "encrypted": true }`, an error with its stack
 * (`{ name, message, stack?, code?, cause? }`: the dashboard shows where a step failed), and
 * anything else as plain JSON (`json-value.ts`, "Values in JSON" in docs/http.md).
 */
import { ENCRYPTED_PAYLOAD } from "../ops/payload-view.ts";
import { type JsonValue, toJsonValue } from "./json-value.ts";

/** What an encrypted payload that was not decrypted looks like in JSON. */
export const ENCRYPTED_JSON: { encrypted: true } = Object.freeze({ encrypted: true as const });

/** The JSON of a value `PayloadView.show` returned (undefined stays undefined: no payload). */
export function payloadJson(value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  if (value === ENCRYPTED_PAYLOAD) return { encrypted: true };
  if (value instanceof Error) {
    const json = toJsonValue(value) as { [key: string]: JsonValue };
    if (typeof value.stack === "string") json.stack = value.stack;
    return json;
  }
  return toJsonValue(value);
}
