/**
 * Executes one attempt of a step in the host: decodes its arguments, calls the registered body
 * inside the step context, and reports the outcome as codec text together with the retry decision.
 * The attempt's `AbortController` belongs to the driver, which aborts it when the attempt's result
 * is no longer wanted; the executor aborts it itself when the step's `timeout` runs out, and then
 * reports the attempt as failed with a `StepTimeoutError` at once, without waiting for the body
 * (whatever it produces later is dropped). Step bodies never run in the sandbox. What the attempt
 * prints until its outcome is reported comes with the outcome (`logs`, `console-capture.ts`).
 */
import { StepNotRegisteredError } from "../errors/runtime.ts";
import { StepTimeoutError } from "../errors/step.ts";
import { FatalError } from "../errors/user.ts";
import { decodeValue, encodeValue } from "../serde/codec.ts";
import type { CapturedLogs } from "../serde/logs.ts";
import type { PayloadScope } from "../serde/payload.ts";
import type { RunInfo } from "../workflow/protocol.ts";
import { wallClock } from "./clock.ts";
import { installConsoleCapture } from "./console-capture.ts";
import { encodeError } from "./error-text.ts";
import type { StepTask } from "./machine.ts";
import { getStep } from "./registry.ts";
import { decideRetry, type RetryDecision } from "./retry.ts";
import { type StepEnvironment, type StepOutput, stepContext } from "./step-context.ts";
import { armTimeout, stepTimeoutMs } from "./step-timeout.ts";

export type StepOutcome = (
  | { ok: true; value: string }
  | { ok: false; error: string; decision: RetryDecision }
) & {
  /** What the attempt printed before its outcome was taken, if anything. */
  logs?: CapturedLogs;
};

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs attempt `step.attempt` of `step`. `controller`'s signal is the step's
 * `getStepMetadata().signal`. The outcome carries what the attempt printed (`logs`): lines printed
 * after it (a body left behind by a timeout) are only printed.
 */
export async function executeStep(
  run: RunInfo,
  scope: PayloadScope,
  step: StepTask,
  env: StepEnvironment,
  controller: AbortController,
): Promise<StepOutcome> {
  installConsoleCapture();
  const output: StepOutput = {};
  const outcome = await runAttempt(run, scope, step, env, controller, output);
  const logs = output.buffer?.take();
  return logs === undefined ? outcome : { ...outcome, logs };
}

async function runAttempt(
  run: RunInfo,
  scope: PayloadScope,
  step: StepTask,
  env: StepEnvironment,
  controller: AbortController,
  output: StepOutput,
): Promise<StepOutcome> {
  const fn = getStep(step.name);
  const clock = env.clock ?? wallClock;
  const startedAt = clock.now();
  if (fn === undefined) {
    const error = new StepNotRegisteredError(
      `Step ${step.name} is not registered in this worker. Load the file that defines it (node --import stepwise-workflows/register, or list it in npx stepwise worker <files>).`,
    );
    return { ok: false, error: encodeError(error), decision: { retry: false, fatal: true } };
  }
  let timeoutMs: number | undefined;
  try {
    timeoutMs = stepTimeoutMs(fn, step.name);
  } catch (error) {
    // Another attempt would read the same value: fail the step at once.
    return { ok: false, error: encodeError(error), decision: { retry: false, fatal: true } };
  }
  const body = (async () =>
    stepContext.run(
      {
        runId: run.runId,
        scope,
        workflowName: run.workflowName,
        workflowStartedAt: new Date(run.createdAt),
        workflowVersion: run.version,
        stepId: step.id,
        stepName: step.name,
        attempt: step.attempt,
        stepStartedAt: new Date(startedAt),
        signal: controller.signal,
        env,
        output,
      },
      () => {
        // Decoded inside the step's context: stream handles among the arguments bind to this run.
        const args = decodeValue(step.args);
        const body = env.bodyFor?.(step.name) ?? (fn as (...a: unknown[]) => unknown);
        return body(...(Array.isArray(args) ? args : []));
      },
    ))();
  // Settling handles a late rejection too: a body left behind by a timeout rejects into nothing.
  const settled: Promise<Settled> = body.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
  let result: Settled | "timeout";
  if (timeoutMs === undefined) {
    result = await settled;
  } else {
    let disarm: () => void = () => undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      disarm = armTimeout(timeoutMs, () => resolve("timeout"), clock);
    });
    result = await Promise.race([settled, timedOut]);
    disarm();
  }
  if (result === "timeout") {
    const error = new StepTimeoutError(
      { runId: run.runId, stepName: step.name, attempt: step.attempt },
      timeoutMs as number,
    );
    controller.abort(error);
    return {
      ok: false,
      error: encodeError(error),
      decision: decideRetry(fn, step.attempt, error, clock.now()),
    };
  }
  if (!result.ok) {
    return {
      ok: false,
      error: encodeError(result.error),
      decision: decideRetry(fn, step.attempt, result.error, clock.now()),
    };
  }
  let text: string;
  try {
    text = encodeValue(result.value);
  } catch (error) {
    const fatal = new FatalError(
      `Step ${step.name} returned a value that cannot be serialized: ${(error as Error).message}`,
    );
    return { ok: false, error: encodeError(fatal), decision: { retry: false, fatal: true } };
  }
  return { ok: true, value: text };
}
