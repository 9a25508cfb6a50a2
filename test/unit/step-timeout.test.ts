/**
 * Step timeouts as written by users (`fn.timeout`): what is accepted, what is refused and with
 * which message, and where a malformed one is caught — at registration, at the assignment after
 * registration, and (for a value that got past both) at the attempt. Also the errors' shape.
 */
import { afterEach, describe, expect, it } from "vitest";
import { InvalidDurationError } from "../../src/errors/runtime.ts";
import { StepAbortedError, StepTimeoutError } from "../../src/errors/step.ts";
import { StepwiseError } from "../../src/index.ts";
import { clearRegistry, getStep, registerStep, type StepFunction } from "../../src/runtime/registry.ts";
import { parseStepTimeout } from "../../src/runtime/step-timeout.ts";

afterEach(() => clearRegistry());

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("parseStepTimeout", () => {
  it.each([
    ["30s", 30_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["1.5s", 1_500],
    [" 2 minutes ", 120_000],
    [1500, 1_500],
    [0.5, 0.5],
  ])("reads %j as %j ms", (value, ms) => {
    expect(parseStepTimeout(value, "charge")).toBe(ms);
  });

  it("takes undefined as no timeout", () => {
    expect(parseStepTimeout(undefined, "charge")).toBeUndefined();
  });

  it.each([
    0,
    "0s",
    -5,
    "-5s",
    Number.NaN,
    Number.POSITIVE_INFINITY,
    "",
    "soon",
    "10 parsecs",
    null,
    true,
    { seconds: 30 },
    new Date(Date.now() + 30_000),
  ])("refuses %j with an InvalidDurationError naming the step and what is accepted", (value) => {
    const error = caught(() => parseStepTimeout(value, "step//workflows/pay.ts//charge"));
    expect(InvalidDurationError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/^The timeout of step step\/\/workflows\/pay\.ts\/\/charge/);
    expect((error as Error).message).toMatch(
      /is not a valid duration\. Use milliseconds above 0 \(30000\) or a duration string \('30s', '5m', '2h'\)/,
    );
  });

  it("says a Date is no timeout", () => {
    expect((caught(() => parseStepTimeout(new Date(), "charge")) as Error).message).toMatch(
      /a timeout bounds each attempt, so it is not a Date\.$/,
    );
  });
});

describe("fn.timeout on a registered step", () => {
  it("is checked at registration: a malformed one throws there, and nothing is registered", () => {
    const fn = Object.assign(async () => 1, { timeout: "soon" }) as StepFunction;
    const error = caught(() => registerStep("step//t.ts//bad", fn));
    expect(InvalidDurationError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/The timeout of step step\/\/t\.ts\/\/bad: "soon" is not/);
    expect(getStep("step//t.ts//bad")).toBeUndefined();
  });

  it("is checked when assigned after registration (as compiled modules do), keeping the old value", () => {
    const fn = (async () => 1) as StepFunction;
    registerStep("step//t.ts//late", fn);
    fn.timeout = "30s";
    expect(fn.timeout).toBe("30s");
    const error = caught(() => {
      fn.timeout = -1;
    });
    expect(InvalidDurationError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/The timeout of step step\/\/t\.ts\/\/late: -1/);
    expect(fn.timeout).toBe("30s");
    fn.timeout = undefined;
    expect(fn.timeout).toBeUndefined();
    // Still an ordinary, enumerable property next to maxRetries and retries.
    fn.timeout = 250;
    expect(Object.keys(fn)).toContain("timeout");
  });

  it("keeps a valid timeout given before registration", () => {
    const fn = Object.assign(async () => 1, { timeout: "2m", maxRetries: 3 }) as StepFunction;
    registerStep("step//t.ts//early", fn);
    expect(fn.timeout).toBe("2m");
    expect(fn.maxRetries).toBe(3);
  });

  it("leaves a frozen function as it is (the attempt checks it again)", () => {
    const fn = Object.freeze(Object.assign(async () => 1, { timeout: "1s" })) as StepFunction;
    registerStep("step//t.ts//frozen", fn);
    expect(getStep("step//t.ts//frozen")?.timeout).toBe("1s");
  });
});

describe("the abort errors", () => {
  const attempt = { runId: "wrun_X", stepName: "step//pay.ts//charge", attempt: 2 };

  it("a timeout says it timed out, after how long, and is a StepAbortedError with reason timeout", () => {
    const error = new StepTimeoutError(attempt, 30_000);
    expect(error.message).toMatch(
      /^Step step\/\/pay\.ts\/\/charge timed out after 30s \(attempt 2, run wrun_X\)/,
    );
    expect(new StepTimeoutError(attempt, 1_500).message).toMatch(/timed out after 1500ms/);
    expect(new StepTimeoutError(attempt, 120_000).message).toMatch(/timed out after 2m/);
    expect(error).toMatchObject({ code: "STEP_TIMEOUT", reason: "timeout", timeoutMs: 30_000, attempt: 2 });
    expect(StepTimeoutError.is(error)).toBe(true);
    expect(StepAbortedError.is(error)).toBe(true);
    expect(StepwiseError.is(error)).toBe(true);
    // Recognised by code alone, as after the log or the sandbox boundary.
    expect(StepTimeoutError.is({ code: "STEP_TIMEOUT" })).toBe(true);
    expect(StepAbortedError.is({ code: "STEP_TIMEOUT" })).toBe(true);
    expect(StepTimeoutError.is({ code: "STEP_ABORTED" })).toBe(false);
  });

  it.each([
    ["cancelled", /The run was cancelled while step step\/\/pay\.ts\/\/charge \(run wrun_X, attempt 2\)/],
    ["run-ended", /The run ended while step/],
    ["lease-lost", /This worker stopped driving the run/],
    ["shutdown", /The worker is shutting down while step/],
  ] as const)("an abort for %s says why, and what happens to the result", (reason, message) => {
    const error = new StepAbortedError(reason, attempt);
    expect(error.message).toMatch(message);
    expect(error).toMatchObject({ code: "STEP_ABORTED", reason, runId: "wrun_X", attempt: 2 });
    expect(StepTimeoutError.is(error)).toBe(false);
  });
});
