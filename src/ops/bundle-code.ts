/**
 * The check an imported workflow bundle passes before it is stored: its code, opened with the
 * payload codec as every stored bundle is (`bundleCode`: an envelope, encrypted when the source
 * had a key, or raw UTF-8 from before envelopes), must hash to the hash it is filed under, or the
 * file is refused with a `BundleIntegrityError`, since a run pinned to that hash would replay with
 * code nobody wrote. The bytes are stored as they are.
 */
import { BundleIntegrityError, bundleCode } from "../runtime/bundles.ts";
import type { PayloadCodec } from "../serde/payload.ts";
import type { ExportedBundle } from "./export-format.ts";

/**
 * Throws `BundleIntegrityError` when the bundle's code does not hash to its hash (or
 * `PayloadDecryptionError` when its envelope was altered); `file` names the export file.
 */
export function verifyBundleCode(bundle: ExportedBundle, file: string, payloads: PayloadCodec): void {
  try {
    bundleCode({ ...bundle, createdAt: 0 }, payloads);
  } catch (error) {
    if (!BundleIntegrityError.is(error)) throw error;
    (error as Error).message =
      `The workflow bundle ${bundle.hash} in ${file} does not match its hash: the file was altered or damaged, and runs pinned to that version must not replay with it. Nothing was imported. Export the runs again from the source World.`;
    throw error;
  }
}
