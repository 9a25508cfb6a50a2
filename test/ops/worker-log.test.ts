/**
 * The worker's log line says what is true of the run (from the Worker's `RunReport`): completed,
 * failed with the error's name and message, cancelled, waiting on a sleep or a hook, retrying a
 * step — never a bare "finished" for a run that failed. The end-to-end check, with a real worker
 * process, is in test/e2e/cli.test.ts.
 */
import { describe, expect, it } from "vitest";
import { describeRunReport, workerLogLine } from "../../src/ops/worker-log.ts";
import type { RunReport } from "../../src/runtime/worker.ts";

const base: RunReport = {
  runId: "wrun_1",
  workflowName: "workflow//workflows/x.ts//order",
  outcome: "finished",
  stepsCompleted: 2,
};
const now = Date.UTC(2030, 0, 1);

describe("the worker's log line", () => {
  it("says how a finished run ended", () => {
    expect(describeRunReport({ ...base, ended: { status: "completed" } })).toBe("completed");
    expect(describeRunReport({ ...base, ended: { status: "cancelled" } })).toBe("cancelled");
    expect(
      describeRunReport({
        ...base,
        ended: { status: "failed", error: { name: "FatalError", message: "no" } },
      }),
    ).toBe("failed (FatalError: no)");
  });

  it("says what a suspended run waits for", () => {
    const waiting = (w: RunReport["waiting"]) =>
      describeRunReport({ ...base, outcome: "suspended", waiting: w }, now);
    expect(waiting({ sleeps: [now + 60_000], events: [], hooks: [], retries: [] })).toBe(
      "waiting (sleep until 2030-01-01T00:01:00Z)",
    );
    expect(waiting({ sleeps: [], events: [], hooks: ["hook_1"], retries: [] })).toBe("waiting (hook hook_1)");
    expect(
      waiting({
        sleeps: [],
        events: [{ eventType: "approval", timeoutAt: now + 3_600_000 }],
        hooks: [],
        retries: [],
      }),
    ).toBe('waiting (event "approval" until 2030-01-01T01:00:00Z)');
    expect(
      waiting({
        sleeps: [],
        events: [],
        hooks: [],
        retries: [
          { stepId: "s", stepName: "step//workflows/x.ts//charge", nextAttempt: 2, retryAt: now + 5000 },
        ],
      }),
    ).toBe("retrying step charge (attempt 2, in 5s)");
  });

  it("names the time, run and workflow, and the steps completed here", () => {
    expect(workerLogLine({ ...base, ended: { status: "completed" } }, now)).toBe(
      "2030-01-01T00:00:00.000Z wrun_1 order: completed; 2 steps completed here",
    );
    expect(workerLogLine({ ...base, stepsCompleted: 0, outcome: "stopped" }, now)).toBe(
      "2030-01-01T00:00:00.000Z wrun_1 order: handed back (this worker is stopping)",
    );
    expect(describeRunReport({ ...base, outcome: "lost" })).toBe("lost (another worker has taken it over)");
    expect(describeRunReport({ ...base, outcome: "deferred" })).toBe(
      "handed back (this worker cannot read one of its payloads)",
    );
    expect(
      describeRunReport({ ...base, outcome: "deferred", unavailableStep: "step//src/steps.ts//charge" }),
    ).toBe(
      "handed back (it calls step charge, which is not in this worker's code; it waits for a worker that has it)",
    );
  });
});
