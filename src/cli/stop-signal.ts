/**
 * How a long-running command (`worker`, `server`) waits to be told to stop: the first SIGTERM or
 * SIGINT resolves (after saying `doing`, what the command does now), a second one exits at once.
 */
import { note } from "./output.ts";

/** Resolves on the first SIGTERM or SIGINT; a second signal exits the process with 130. */
export function untilStopSignal(doing: string): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        note(`${signal} again: exiting now.`);
        process.exit(130);
      }
      stopping = true;
      note(`${signal}: ${doing}…`);
      resolve();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
