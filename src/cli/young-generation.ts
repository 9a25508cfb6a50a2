/**
 * The young generation of `stepwise server`'s V8 heap, kept at its starting size. A server holding
 * many long polls sees bursts in which most of what a request allocates is still alive at the next
 * scavenge (every waiting request holds its socket, request and response); V8 reads that as "the
 * young generation is too small" and doubles it, to 32 MB here, and does not give it back while the
 * server stays busy. Not growing it keeps 1,000 waiting long polls at about 86 MB instead of 104
 * (bench/remote.mjs): scavenges come more often and each one stays as cheap, since its cost follows
 * what survives, not the space. V8 reads the growth factor each time it would grow the space, so
 * setting it once the process runs takes effect. Only the server command does this: a library
 * never tunes its host process's heap, and a user's own `--max-semi-space-size` or
 * `--semi-space-growth-factor` (in NODE_OPTIONS or on the command line) is left alone.
 */
import { setFlagsFromString } from "node:v8";

/** Whether the user already chose how the young generation is sized. */
function userChose(): boolean {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].join(" ");
  return /--(max-semi-space-size|semi-space-growth-factor|max-young-generation-size)/.test(flags);
}

/** Stops the young generation from growing past its starting size (once, for a server process). */
export function keepYoungGenerationSmall(): void {
  if (userChose()) return;
  setFlagsFromString("--semi-space-growth-factor=1");
}
