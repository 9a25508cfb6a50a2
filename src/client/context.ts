/**
 * What a client writes and reads with: its World, its payload codec, its limits, and what a use
 * of it sets going (the process's client starts its in-process worker there). Every function of
 * the client core takes one, so a program can hold several clients (a test environment's, a
 * server's, the process's) and each writes only to its own World.
 */
import type { Limits } from "../runtime/limits.ts";
import type { PayloadCodec } from "../serde/payload.ts";
import type { World } from "../world/types.ts";

/** The client's World, codec and limits, read when used (they may be configured late). */
export interface ClientContext {
  /** The World the client writes to and reads from. */
  world(): Promise<World>;
  /** The payload codec: encodes, encrypts and decodes the client's payloads. */
  payloads(): PayloadCodec;
  /** The per-payload and per-run size limits its writes are checked against. */
  limits(): Limits;
  /**
   * Called after a write (a start, a hook payload, an event, a restart) and by `getRun`: the
   * process's client starts its in-process worker here; another client does nothing.
   */
  used(): Promise<void>;
  /**
   * True for a client that executes nothing in this process: it may start workflows it has not
   * loaded (by reference), which the workers that have their code run.
   */
  clientOnly(): boolean;
  /**
   * The full ids of the workflows live workers registered with the deployment's server, when the
   * client knows them otherwise than through its World (`World.workers`): the server's own run
   * API passes its registry. Used to find a workflow by its plain name (`workflow-name.ts`).
   */
  liveWorkflows?(): Promise<readonly string[]>;
}
