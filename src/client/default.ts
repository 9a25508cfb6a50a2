/**
 * The client a `Run` handle made without one uses: the process's, which the process setup
 * (`process/process.ts`) registers when it loads. The client core never imports the process
 * setup itself (it sits above the core), so the handle asks for it here.
 */
import type { Client } from "./client.ts";

let provider: (() => Client) | undefined;

/** Registers where the default client comes from (the process setup does, once). @internal */
export function setDefaultClient(get: () => Client): void {
  provider = get;
}

/** The default client; an `Error` saying what to do when no process setup is loaded. @internal */
export function defaultClient(): Client {
  if (provider === undefined) {
    throw new Error(
      "No Stepwise client is configured in this process: get run handles from a client (client.getRun(runId)) or from stepwise-workflows/api (getRun(runId)).",
    );
  }
  return provider();
}
