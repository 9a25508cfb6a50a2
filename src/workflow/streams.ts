/**
 * `getWritable()` in workflow code. The handle is a `WritableStream` of the realm whose writes are
 * built-in steps (so a write is recorded once and never repeated by a replay), and which crosses
 * into steps as a reference: passed as a step argument, it arrives in the step as a `WritableStream`
 * writing straight to the run's stream (class id `stepwise//stream`, see `runtime/builtin-steps.ts`).
 *
 * Runs inside the sandbox: no Node imports.
 */
import { deserialize, serialize } from "../serde/classes.ts";

type StepStub = (...args: unknown[]) => Promise<unknown>;

/** What a stream handle serializes to. */
export interface StreamRefData {
  name: string;
}

export interface WorkflowStreamClass {
  new (
    name: string,
    steps?: { write: StepStub; close: StepStub },
  ): WritableStream<unknown> & { readonly name: string };
  [serialize](instance: { name: string }): StreamRefData;
  [deserialize](data: StreamRefData): unknown;
}

/** The realm's stream handle class (built once per realm, on the realm's `WritableStream`). */
export function createWorkflowStreamClass(realm: Record<string, unknown>): WorkflowStreamClass {
  const Base = realm.WritableStream as typeof WritableStream;
  class WorkflowStream extends Base<unknown> {
    readonly name: string;

    constructor(name: string, steps?: { write: StepStub; close: StepStub }) {
      super({
        write: async (chunk) => {
          if (steps === undefined)
            throw new Error(`Stream "${name}" was received from a step; write to it in a step.`);
          await steps.write(name, chunk);
        },
        close: async () => {
          await steps?.close(name);
        },
      });
      this.name = name;
    }

    static [serialize](instance: { name: string }): StreamRefData {
      return { name: instance.name };
    }

    static [deserialize](data: StreamRefData): unknown {
      return new WorkflowStream(data.name);
    }
  }
  return WorkflowStream as unknown as WorkflowStreamClass;
}
