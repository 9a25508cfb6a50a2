/**
 * Executes one attempt of a step in the host: decodes its arguments, calls the registered body
 * inside the step context, and reports the outcome as codec text together with the retry decision.
 * Step bodies never run in the sandbox.
 */
import { StepNotRegisteredError } from "../errors/runtime.ts";
import { FatalError } from "../errors/user.ts";
import { decodeValue, encodeValue } from "../serde/codec.ts";
import type { PayloadScope } from "../serde/payload.ts";
import type { RunInfo } from "../workflow/protocol.ts";
import { encodeError } from "./error-text.ts";
import type { StepTask } from "./machine.ts";
import { getStep } from "./registry.ts";
import { decideRetry, type RetryDecision } from "./retry.ts";
import { type StepEnvironment, stepContext } from "./step-context.ts";

export type StepOutcome = { ok: true; value: string } | { ok: false; error: string; decision: RetryDecision };

export async function executeStep(
  run: RunInfo,
  scope: PayloadScope,
  step: StepTask,
  env: StepEnvironment,
): Promise<StepOutcome> {
  const fn = getStep(step.name);
  const startedAt = Date.now();
  if (fn === undefined) {
    const error = new StepNotRegisteredError(
      `Step ${step.name} is not registered in this worker. Load the file that defines it (node --import stepwise-workflows/register, or list it in npx stepwise worker <files>).`,
    );
    return { ok: false, error: encodeError(error), decision: { retry: false, fatal: true } };
  }
  try {
    const value = await stepContext.run(
      {
        runId: run.runId,
        scope,
        workflowName: run.workflowName,
        workflowStartedAt: new Date(run.createdAt),
        stepId: step.id,
        stepName: step.name,
        attempt: step.attempt,
        stepStartedAt: new Date(startedAt),
        env,
      },
      () => {
        // Decoded inside the step's context: stream handles among the arguments bind to this run.
        const args = decodeValue(step.args);
        return (fn as (...a: unknown[]) => unknown)(...(Array.isArray(args) ? args : []));
      },
    );
    let text: string;
    try {
      text = encodeValue(value);
    } catch (error) {
      const fatal = new FatalError(
        `Step ${step.name} returned a value that cannot be serialized: ${(error as Error).message}`,
      );
      return { ok: false, error: encodeError(fatal), decision: { retry: false, fatal: true } };
    }
    return { ok: true, value: text };
  } catch (error) {
    return {
      ok: false,
      error: encodeError(error),
      decision: decideRetry(fn, step.attempt, error, Date.now()),
    };
  }
}
