/**
 * The check an imported workflow bundle passes before it is stored: its code must hash to the hash
 * it is filed under (`bundleHash`), or the file is refused with a `BundleIntegrityError`, since a
 * run pinned to that hash would replay with code nobody wrote. The bytes are those the source
 * World stored; today that is the code's UTF-8 text. (When stored bundle code is encrypted with
 * the payload key, this is the one place that reads it through the payload codec.)
 */
import { BundleIntegrityError } from "../runtime/bundles.ts";
import { bundleHash } from "../runtime/registry.ts";
import type { ExportedBundle } from "./export-format.ts";

const decoder = new TextDecoder();

/**
 * Throws `BundleIntegrityError` when the bundle's code does not hash to its hash; `file` names the
 * export file for the message.
 */
export function verifyBundleCode(bundle: ExportedBundle, file: string): void {
  const actual = bundleHash(decoder.decode(bundle.code));
  if (actual === bundle.hash) return;
  const error = new BundleIntegrityError(bundle.hash, actual);
  error.message = `The workflow bundle ${bundle.hash} in ${file} does not match its hash (its code hashes to ${actual}): the file was altered or damaged, and runs pinned to that version must not replay with it. Nothing was imported. Export the runs again from the source World.`;
  throw error;
}
